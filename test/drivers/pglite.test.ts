import { describeDriver } from './scenarios';
import { targets } from './targets';

describeDriver(targets.pglite);
