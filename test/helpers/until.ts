/**
 * Waits until `done()` holds, for code that runs on its own schedule (a worker, a listener).
 * It waits for an event, not a duration: the limit only turns a hang into a failure naming `what`.
 */
export async function until(what: string, done: () => boolean | Promise<boolean>, seconds = 10): Promise<void> {
  for (let i = 0; i < seconds * 50; i++) {
    if (await done()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}
