// typeorm-transactional with its default storage driver, cls-hooked (see the scenarios file).
import { StorageDriver } from 'typeorm-transactional';
import { typeormTransactionalScenarios } from './typeorm-transactional.scenarios';

typeormTransactionalScenarios(StorageDriver.CLS_HOOKED);
