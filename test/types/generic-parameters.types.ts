// Compiled by tsc in test/unit/typecheck.test.ts: the types that appear as generic parameters of
// public signatures can be named from the package root (and the matcher types from /jest), so a
// user can write helpers around the public API.
import {
  Signal,
  postDelete,
  postSave,
  preSave,
  type ArgsOf,
  type Family,
  type ModelSignal,
  type OptionsOf,
  type PayloadObject,
  type PhaseFor,
  type ReceiverOf,
  type SaveFields,
  type Timing,
} from '../../src';
import type { MatcherContext, MatcherResult } from '../../src/jest';
import { Author } from '../fixtures/blog';

function auditAll<F extends Family>(signal: ModelSignal<F, 'post'>) {
  return signal.connect(({ sender }) => void String(sender), { phase: 'commit' });
}
auditAll(postSave);
auditAll(postDelete);
// @ts-expect-error preSave is a 'pre' signal
auditAll(preSave);

const post: PhaseFor<'post'> = 'rollback';
// @ts-expect-error a pre signal has the transaction phase only
const pre: PhaseFor<'pre'> = 'commit';
const timings: Timing[] = ['pre', 'post'];
void [post, pre, timings];

function makeSignal<P extends PayloadObject>(name: string) {
  return new Signal<P>({ name });
}
const made = makeSignal<{ n: number }>('made');
// @ts-expect-error a payload may not use the reserved key "sender"
makeSignal<{ sender: string }>('reserved');

const onMade: ReceiverOf<typeof made> = ({ n }) => n;
void made.send(Author, { n: 1 });
const options: OptionsOf<typeof postSave> = { sender: Author, phase: 'commit' };
function onWrite(args: ArgsOf<typeof postSave | typeof postDelete>) {
  return args.entityId;
}
const fields = (f: SaveFields<Author>) => f.updateFields;
const context: MatcherContext = { isNot: false, equals: Object.is };
const result: MatcherResult = { pass: true, message: () => '' };
void [onMade, options, onWrite, fields, context, result];
