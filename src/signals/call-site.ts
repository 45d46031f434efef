import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

// Frames from the library's own dispatch code are skipped so that connectedAt names the user's line.
// Running from dist/, source maps (node --enable-source-maps, jest, ts-node) turn the library's
// frames into <package>/src/... paths, which are skipped too; from src/ both lists are the same.
const root = path.resolve(__dirname, '..');
const sourceRoot = path.join(root, '..', 'src');
// nestjs: @OnSignal captures its own caller, the decorated method's line.
const libraryDirs = [root, sourceRoot].flatMap((dir) => ['signals', 'typeorm', 'nestjs'].map((sub) => path.join(dir, sub) + path.sep));

/**
 * Captures where a receiver was connected and returns a function that formats it as
 * "file:line" (the first frame outside the library) when first asked. V8 records the frames at
 * capture time but builds the stack text only when `.stack` is read: deferring that read keeps
 * connect() cheap (source-map support, as under jest, makes formatting cost ~100 µs).
 */
export function captureCallSite(): () => string | undefined {
  const holder: { stack?: string } = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 12;
  Error.captureStackTrace(holder, captureCallSite);
  Error.stackTraceLimit = limit;
  let site: string | undefined | null = null;
  return () => (site === null ? (site = firstUserFrame(holder.stack ?? '')) : site);
}

function firstUserFrame(stack: string): string | undefined {
  for (const line of stack.split('\n').slice(1)) {
    const match = /\(?((?:file:\/\/)?[^()\s]+):(\d+):\d+\)?\s*$/.exec(line);
    if (!match) continue;
    // ESM frames are file:// URLs, percent-encoded ("my%20app"): connectedAt is a path.
    const file = match[1].startsWith('file://') ? toPath(match[1]) : match[1];
    if (libraryDirs.some((dir) => file.startsWith(dir)) || file.startsWith('node:')) continue;
    return `${file}:${match[2]}`;
  }
  return undefined;
}

function toPath(url: string): string {
  try {
    return fileURLToPath(url);
  } catch {
    return url.slice('file://'.length);
  }
}
