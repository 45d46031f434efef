import { format } from 'node:util';
import createDebug from 'debug';

/**
 * Collects what the `debug` package prints (DEBUG=typeorm-signals traces) for the enclosing
 * describe block: every namespace is disabled first (enable the ones a test wants), the lines
 * are cleared before each test, and the previous debug settings come back afterwards.
 */
export function captureDebugLines(): string[] {
  const lines: string[] = [];
  const originalLog = createDebug.log;
  let previouslyEnabled = '';
  beforeAll(() => {
    previouslyEnabled = createDebug.disable();
    createDebug.log = (...args: unknown[]) => void lines.push(format(...(args as [unknown, ...unknown[]])));
  });
  afterAll(() => {
    createDebug.log = originalLog;
    createDebug.disable();
    if (previouslyEnabled) createDebug.enable(previouslyEnabled);
  });
  beforeEach(() => {
    lines.length = 0;
  });
  return lines;
}
