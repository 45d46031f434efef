import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Detects a second physical copy of typeorm-signals in the process (npm link, a monorepo with
 * two node_modules, a bundled plugin). Each copy has its own signals, receivers, mute scopes and
 * subscriber class: receivers connected through one copy never run for a DataSource whose
 * SignalsSubscriber comes from the other, and `withoutSignals`/`captureSignals` of one copy do not
 * see the other's sends. Nothing fails, so the copy is reported where it loads: every copy adds
 * its package folder to a registry on globalThis (under a registered symbol, the only thing two
 * copies of any version share), and a copy that finds another folder there emits a warning.
 *
 * The CommonJS and ESM entry points are one copy: the .mjs files re-export the CommonJS build.
 * The package folder, not the file, identifies a copy, so that src/ and dist/ of this repository
 * (its own tests and tools) do not count as two.
 */

/** One loaded copy, as the registry holds it. */
export interface LoadedCopy {
  /** The package folder (symlinks resolved). */
  readonly root: string;
  /** Its package.json version, when readable. */
  readonly version: string | undefined;
}

const REGISTRY = Symbol.for('typeorm-signals.copies');
/** @internal The warning code of a second copy, for `--disable-warning` and `process.on('warning')`. */
export const DUPLICATE_COPY_CODE = 'TYPEORM_SIGNALS_DUPLICATE_COPY';

function packageRoot(): string {
  // dist/signals/copies.js or src/signals/copies.ts: two levels below the package folder.
  const root = path.resolve(__dirname, '..', '..');
  try {
    return fs.realpathSync(root);
  } catch {
    return root;
  }
}

function versionOf(root: string): string | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
}

function registry(): LoadedCopy[] {
  const holder = globalThis as unknown as Record<symbol, LoadedCopy[] | undefined>;
  let list = holder[REGISTRY];
  if (!Array.isArray(list)) {
    list = [];
    Object.defineProperty(holder, REGISTRY, { value: list, enumerable: false, configurable: true, writable: false });
  }
  return list;
}

const root = packageRoot();
/** @internal This copy's package folder and version. */
export const thisCopy: LoadedCopy = { root, version: versionOf(root) };

/** @internal What having two copies breaks, for the warning and checkSignals(). */
export const DUPLICATE_COPY_CONSEQUENCES =
  'each copy has its own signals and SignalsSubscriber: receivers connected through one copy never run for a ' +
  "DataSource whose SignalsSubscriber comes from the other, and withoutSignals()/captureSignals() do not see the other copy's sends";

function describeCopy(copy: LoadedCopy): string {
  return copy.version === undefined ? copy.root : `${copy.root} (${copy.version})`;
}

/** @internal The message about other copies, seen from this one; undefined when there is none. */
export function duplicateCopyMessage(): string | undefined {
  const others = otherCopies();
  if (others.length === 0) return undefined;
  return (
    `typeorm-signals is loaded from ${others.length + 1} places in this process: ${describeCopy(thisCopy)} and ` +
    `${others.map(describeCopy).join(', ')}; ${DUPLICATE_COPY_CONSEQUENCES}. Make every package resolve the same copy ` +
    '(one version in the lock file, npm dedupe, or a single workspace dependency; with npm link, link typeorm-signals too)'
  );
}

/** @internal The other copies loaded in this process, in load order. */
export function otherCopies(): LoadedCopy[] {
  return registry().filter((copy) => copy.root !== thisCopy.root);
}

/** Registers this copy; the first load of a second copy warns, naming both folders. */
function registerThisCopy(): void {
  const list = registry();
  // jest (one module registry per test file) and jest.isolateModules() load one copy many times.
  if (list.some((copy) => copy.root === thisCopy.root)) return;
  list.push(thisCopy);
  const message = duplicateCopyMessage();
  if (message !== undefined) process.emitWarning(message, { type: 'TypeormSignalsWarning', code: DUPLICATE_COPY_CODE });
}

registerThisCopy();
