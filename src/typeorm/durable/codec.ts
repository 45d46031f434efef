import { SignalsError } from '../../signals/errors';

/**
 * The JSON form of a durable job's values. JSON has no Date, bigint or binary type, so those
 * travel as one-key objects and come back as what they were:
 *
 *   Date              { "$date": "2026-12-03T08:00:00.000Z" }
 *   bigint            { "$bigint": "9007199254740993" }
 *   Buffer/Uint8Array { "$bytes": "<base64>" }            (decoded as a Buffer)
 *
 * A plain object of the user's whose only key is one of those (or "$object") is wrapped as
 * { "$object": {...} }, so it cannot be mistaken for one. Objects with a toJSON() (Decimal
 * libraries and the like) travel as what it returns. Everything else that JSON cannot carry
 * faithfully (functions, symbols, NaN and Infinity, Map, Set, RegExp, circular references, ...)
 * is refused with an error naming the field, never its value: the write fails instead of a job
 * that arrives different from what was written.
 */

const TAGS = new Set(['$date', '$bigint', '$bytes', '$object']);

/** Thrown by encode(): `path` is the field, e.g. "data.callback" or "changes.tags.to[0]". */
export class UnserializableValue extends SignalsError {
  constructor(
    readonly path: string,
    readonly what: string,
  ) {
    super(`"${path}" is ${what}, which a durable job cannot carry as JSON`);
  }
}

function describe(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  if (typeof value === 'number') return String(value); // NaN, Infinity: no personal data
  if (typeof value === 'object' && value !== null) return `a ${value.constructor?.name ?? 'object'}`;
  return typeof value;
}

const REFUSED = new Set<unknown>([Map, Set, WeakMap, WeakSet, RegExp, Promise, Error, WeakRef]);

function encodeAt(value: unknown, path: string, seen: Set<object>): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'undefined':
      return undefined;
    case 'number':
      if (!Number.isFinite(value)) throw new UnserializableValue(path, describe(value));
      return value;
    case 'bigint':
      return { $bigint: value.toString() };
    case 'function':
    case 'symbol':
      throw new UnserializableValue(path, describe(value));
  }
  if (value === null) return null;
  const object = value as object;
  if (object instanceof Date) {
    if (Number.isNaN(object.getTime())) throw new UnserializableValue(path, 'an invalid Date');
    return { $date: object.toISOString() };
  }
  if (object instanceof Uint8Array) return { $bytes: Buffer.from(object.buffer, object.byteOffset, object.byteLength).toString('base64') };
  if (seen.has(object)) throw new UnserializableValue(path, 'a circular reference');
  for (const refused of REFUSED) {
    if (typeof refused === 'function' && object instanceof (refused as new () => object)) throw new UnserializableValue(path, describe(object));
  }
  seen.add(object);
  try {
    if (Array.isArray(object)) return object.map((item, i) => encodeAt(item, `${path}[${i}]`, seen) ?? null);
    const toJSON = (object as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return encodeAt(toJSON.call(object), path, seen);
    const out: Record<string, unknown> = {};
    const keys = Object.keys(object);
    for (const key of keys) {
      const encoded = encodeAt((object as Record<string, unknown>)[key], path ? `${path}.${key}` : key, seen);
      if (encoded !== undefined) out[key] = encoded;
    }
    const outKeys = Object.keys(out);
    return outKeys.length === 1 && TAGS.has(outKeys[0]) ? { $object: out } : out;
  } finally {
    seen.delete(object);
  }
}

/** The JSON-ready form of `value`; throws UnserializableValue naming the field (`path`). */
export function encode(value: unknown, path: string): unknown {
  return encodeAt(value, path, new Set());
}

/** The inverse of encode(), on what JSON.parse (or the database's jsonb) returned. */
export function decode(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(decode);
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object);
  if (keys.length === 1 && TAGS.has(keys[0])) {
    const inner = object[keys[0]];
    switch (keys[0]) {
      case '$date':
        return new Date(inner as string);
      case '$bigint':
        return BigInt(inner as string);
      case '$bytes':
        return Buffer.from(inner as string, 'base64');
      case '$object':
        return Object.fromEntries(Object.entries(inner as object).map(([k, v]) => [k, decode(v)]));
    }
  }
  const out: Record<string, unknown> = {};
  for (const key of keys) out[key] = decode(object[key]);
  return out;
}
