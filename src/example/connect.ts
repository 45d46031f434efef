/**
 * What an application imports once at start-up to connect its receivers, here the example's
 * (both connects are idempotent). The signal map of the example loads it with -r:
 *
 *   npx typeorm-signals map -d ormconfig.ts -r src/example/connect.ts
 */
import { connectExampleReceivers, connectWelcomeMail } from './receivers';

connectExampleReceivers();
connectWelcomeMail();
