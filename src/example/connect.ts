/**
 * What an application imports once at start-up to connect its receivers, here the example's
 * (connectExampleReceivers() is idempotent). The signal map of the example loads it with -r:
 *
 *   npx typeorm-signals map -d ormconfig.ts -r src/example/connect.ts
 */
import { connectExampleReceivers } from './receivers';

connectExampleReceivers();
