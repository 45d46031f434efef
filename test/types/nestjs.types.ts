// Compiled by tsc in test/unit/typecheck.test.ts: every @ts-expect-error must be a real error.
// @OnSignal checks the decorated method against the receiver type connect() would accept.
import { Signal, postDelete, postSave, preSave, type BatchPayload, type DeletePayload, type DurableContext, type DurableSaveItem, type SavePayload } from '../../src';
import { OnSignal } from '../../src/nestjs';
import { Author, Post } from '../fixtures/blog';

const accountClosed = new Signal<{ userId: number }>({ name: 'accountClosed' });

export class Fits {
  @OnSignal(postSave, { sender: Author })
  saved({ instance, created }: SavePayload<Author, 'transaction'>): void {
    void [instance.name, created];
  }

  @OnSignal(postSave, { sender: Author, phase: 'commit' })
  async committed({ instance }: SavePayload<Author, 'commit'>): Promise<void> {
    void instance.name;
  }

  @OnSignal(postSave, { sender: Author, phase: 'commit', batch: true, dataSource: 'reports' })
  batch({ items }: BatchPayload<SavePayload<Author, 'commit'>, 'commit'>): number {
    return items.length;
  }

  @OnSignal(postSave, { sender: Author, phase: 'durable', dispatchUid: 'types-durable', retry: { limit: 2 } })
  durable({ entityId, deliveryId }: DurableSaveItem<Author> & DurableContext): void {
    void [entityId, deliveryId];
  }

  // A method that takes nothing fits every signal.
  @OnSignal(postDelete)
  @OnSignal(postSave, { phase: 'rollback' })
  anything(): void {}

  @OnSignal(accountClosed, { dispatchUid: 'types-closed' })
  closed({ userId }: { userId: number }): void {
    void userId;
  }
}

export class Misfits {
  // @ts-expect-error the sender is Author: the payload is not a Post's
  @OnSignal(postSave, { sender: Author })
  wrongEntity({ instance }: SavePayload<Post, 'transaction'>): void {
    void instance.title;
  }

  // @ts-expect-error a per-row receiver does not get items
  @OnSignal(postSave, { sender: Author })
  wrongShape({ items }: BatchPayload<SavePayload<Author>>): void {
    void items;
  }

  // @ts-expect-error postDelete sends a DeletePayload, not a SavePayload
  @OnSignal(postDelete, { sender: Author })
  wrongFamily({ created }: SavePayload<Author, 'transaction'>): void {
    void created;
  }

  // @ts-expect-error a commit receiver's queryRunner may be undefined: a transaction-phase payload does not fit
  @OnSignal(postSave, { sender: Author, phase: 'commit' })
  wrongPhase({ queryRunner }: SavePayload<Author, 'transaction'>): void {
    void queryRunner.isTransactionActive;
  }

  // @ts-expect-error the plain signal's payload has no email
  @OnSignal(accountClosed)
  wrongPayload({ email }: { email: string }): void {
    void email;
  }

  // @ts-expect-error pre signals run in the transaction only
  @OnSignal(preSave, { sender: Author, phase: 'commit' })
  deferredPre(): void {}

  // @ts-expect-error weak is not an option of @OnSignal
  @OnSignal(postSave, { sender: Author, weak: true })
  weak(): void {}

  // @ts-expect-error a durable receiver needs a dispatchUid
  @OnSignal(postSave, { sender: Author, phase: 'durable' })
  noUid(): void {}
}

export const deletePayloadFits: (args: DeletePayload<Author, 'transaction'>) => void = () => undefined;
