/**
 * The DataSource for the TypeORM CLI (`npm run migration:run`, `npm run migration:revert`):
 * the example's entities and migrations on DATABASE_URL's PostgreSQL server when it is set
 * (e.g. postgres://postgres:postgres@localhost:5432/signals from docker-compose.yml), otherwise
 * on an embedded PGlite database kept in ./.pglite/.
 *
 * The CLI runs migrations with `subscribers: []`, so no signal is sent during them: the backfill
 * migration writes its profiles with plain SQL and does not rely on the receiver.
 */
import path from 'node:path';
import { createExampleDataSource } from './src/example/data-source';

export { createExampleDataSource, exampleDataSourceOptions, exampleConfig } from './src/example/data-source';

export default createExampleDataSource({ pgliteDataDir: path.join(__dirname, '.pglite') });
