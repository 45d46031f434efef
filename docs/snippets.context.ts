/**
 * What the documentation's snippets may use without declaring it (docs/snippets.test.ts): the
 * example's entities, the blog fixtures, and the application objects a snippet talks to. The
 * helpers are `any` on purpose: the check is about the library's API, not about a mailer's.
 */
import type { DataSource, EntityManager, QueryRunner, Repository } from 'typeorm';
import type { SignalRecord } from '../src/testing';

export { User, UserProfile } from '../src/example/entities';
export { Article, Author, Content, Post, Tag } from '../test/fixtures/blog';
export { ensureProfileExists, connectExampleReceivers } from '../src/example/receivers';

export declare const dataSource: DataSource;
export declare const manager: EntityManager;
export declare const runner: QueryRunner;
export declare const records: SignalRecord[];
export { DataSource } from 'typeorm';
export { writeFileSync } from 'node:fs';
export { PgBoss } from 'pg-boss';
export { WelcomeMailer } from '../src/example/nest/app.module';
export { Injectable, Module } from '@nestjs/common';
export { TypeOrmModule } from '@nestjs/typeorm';
export declare class UsersModule {}

// Application objects the snippets talk to.
export declare const mailer: any, search: any, audit: any, auditLog: any, cache: any, log: any, logger: any, metrics: any;
export declare const Sentry: any, pino: any, storage: any, queue: any, tagCounts: any, slugify: (text: string) => string;
export declare const users: Repository<import('../src/example/entities').User>, repo: Repository<import('../src/example/entities').User>;
export declare const user: import('../src/example/entities').User, ada: import('../src/example/entities').User, bob: import('../src/example/entities').User;
export declare const email: string, seed: any, seedUsers: any[], rows: any[], input: any, order: any, file: any, payload: any;
export declare const reports: any, options: any, db: any, context: any, boss: any;
export declare const client: { query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }> };
export declare class Order {
  id: number;
}
export declare class Attachment {
  key: string;
}
export declare const userRegistered: import('../src').Signal<{ userId: number; email: string }>;
export declare const userDeactivated: import('../src').Signal<{ userId: number }>;
export declare function auditRegistration(args: { userId: number }): void;
export declare function onUserSaved(args: object): void;
export declare function sendWelcomeMail(args: any): Promise<void>;
export declare function welcome(user: unknown): Promise<void>;
export declare function confirmEmail(user: unknown): Promise<void>;
export declare function indexUser(args: any): Promise<void>;
export declare function indexUsers(args: any): Promise<void>;
export declare function importUsers(...args: any[]): Promise<void>;
export declare function connectReceivers(): void;
export declare function buildExpensivePayload(): Promise<{ userId: number; email: string }>;
export declare class MailStats {
  id: number;
  retries: number;
}
export declare class AuditLog {
  signedUp(email: string): Promise<void>;
}
