// typeorm-transactional with the AsyncLocalStorage driver its README sets up (see the scenarios file).
import { StorageDriver } from 'typeorm-transactional';
import { typeormTransactionalScenarios } from './typeorm-transactional.scenarios';

typeormTransactionalScenarios(StorageDriver.ASYNC_LOCAL_STORAGE);
