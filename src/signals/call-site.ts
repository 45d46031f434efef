import * as path from 'node:path';

// Frames from the library's own dispatch code are skipped so that connectedAt names the user's line.
const libraryDirs = [path.join(path.resolve(__dirname, '..'), 'signals') + path.sep, path.join(path.resolve(__dirname, '..'), 'typeorm') + path.sep];

/**
 * "file:line" of the first stack frame outside the library: where a receiver was connected.
 * Taken once per connect (never per send), so its cost stays off the hot path.
 */
export function callSite(): string | undefined {
  const holder: { stack?: string } = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 12;
  Error.captureStackTrace(holder, callSite);
  Error.stackTraceLimit = limit;
  for (const line of (holder.stack ?? '').split('\n').slice(1)) {
    const match = /\(?((?:file:\/\/)?[^()\s]+):(\d+):\d+\)?\s*$/.exec(line);
    if (!match) continue;
    const file = match[1].replace(/^file:\/\//, '');
    if (libraryDirs.some((dir) => file.startsWith(dir)) || file.startsWith('node:')) continue;
    return `${file}:${match[2]}`;
  }
  return undefined;
}
