import type { Logger, QueryRunner } from 'typeorm';

/**
 * A TypeORM logger that records every query sent through the DataSource, for tests that count
 * statements. Pass it as the DataSource's `logger` (a Logger object gets every query whatever
 * `logging` says: that filter lives in TypeORM's own loggers) and `start()`/`stop()` around
 * the code under test.
 */
export class QueryRecorder implements Logger {
  readonly queries: string[] = [];
  private recording = false;

  /** Clears what was recorded and records from now on. */
  start(): this {
    this.queries.length = 0;
    this.recording = true;
    return this;
  }

  /** Stops recording and returns what was recorded. */
  stop(): string[] {
    this.recording = false;
    return [...this.queries];
  }

  /** The recorded queries whose SQL matches (case-insensitive substring or regex). */
  matching(pattern: string | RegExp): string[] {
    const test = typeof pattern === 'string' ? (q: string) => q.toLowerCase().includes(pattern.toLowerCase()) : (q: string) => pattern.test(q);
    return this.queries.filter(test);
  }

  logQuery(query: string, _parameters?: unknown[], _queryRunner?: QueryRunner): void {
    if (this.recording) this.queries.push(query);
  }

  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}
