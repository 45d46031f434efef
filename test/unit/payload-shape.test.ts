/**
 * The bridge copies a save payload's fields into the receivers' arguments (and into batch items)
 * with one object literal instead of Object.assign (events.ts, PayloadShape). What a receiver
 * gets must not change by it: the same own keys in the same order, the same values. A field
 * added to saveFields() and forgotten in the copies fails here.
 */
import type { EntityMetadata, QueryRunner } from 'typeorm';
import { insertFields, saveFields, shapeOf, updateFields } from '../../src/typeorm/events';

const metadata = { name: 'User' } as unknown as EntityMetadata;
const context = { manager: { m: 1 }, queryRunner: { q: 1 }, dataSource: { d: 1 } } as never;
const signal = { name: 'postSave' } as never;
class User {}

function sameObject(actual: object, expected: object): void {
  expect(Object.keys(actual)).toEqual(Object.keys(expected));
  for (const key of Object.keys(expected)) expect((actual as Record<string, unknown>)[key]).toBe((expected as Record<string, unknown>)[key]);
}

test('the save shape serves insertFields and updateFields, and nothing else', () => {
  expect(shapeOf(insertFields)).toBeDefined();
  expect(shapeOf(updateFields)).toBe(shapeOf(insertFields));
  expect(shapeOf((source: object) => source)).toBeUndefined();
});

test("a receiver's arguments and a batch item are what Object.assign gives, key for key", () => {
  const shape = shapeOf(insertFields)!;
  const fields = saveFields({
    instance: { id: 1 },
    created: true,
    updateFields: ['name'],
    previous: { id: 1, name: 'a' },
    changes: { name: { from: 'a', to: 'b' } },
    entityId: 1,
    source: 'save',
    partial: false,
    metadata,
    data: { by: 'test' },
  });
  sameObject(shape.args(fields, context, signal, User), Object.assign({}, fields, context, { signal, sender: User }));
  sameObject(shape.item(fields, context), Object.assign({}, fields, context));
});

test('insertFields builds the keys saveFields does, in its order', () => {
  const runner = { data: {} } as unknown as QueryRunner;
  const built = insertFields({ entity: { id: 7 }, entityId: 7, metadata, queryRunner: runner } as never);
  const viaSaveFields = saveFields({ instance: { id: 7 }, created: true, entityId: 7, source: 'save', partial: false, metadata, data: undefined });
  expect(Object.keys(built)).toEqual(Object.keys(viaSaveFields));
  expect(built).toEqual({ ...viaSaveFields, instance: { id: 7 } });
  // runner.data with a key is the payload's data
  const withData = insertFields({ entity: {}, entityId: 1, metadata, queryRunner: { data: { by: 'x' } } } as never);
  expect(withData.data).toEqual({ by: 'x' });
});
