/**
 * Runs concurrent calls as one: calls made while a run is in flight (or in the same turn of the
 * event loop) are handed to `runAll` together once it is free, and each caller gets its own result
 * or the run's error. One run at a time, so a later call never overtakes an earlier one.
 */
export function coalesceCalls<I, O>(runAll: (inputs: I[]) => Promise<O[]>): (input: I) => Promise<O> {
  let waiting: Array<{ input: I; resolve(output: O): void; reject(error: unknown): void }> = [];
  let running = false;
  let scheduled = false;

  const run = async () => {
    scheduled = false;
    if (running || waiting.length === 0) return;
    running = true;
    const calls = waiting;
    waiting = [];
    try {
      const outputs = await runAll(calls.map((c) => c.input));
      calls.forEach((c, i) => c.resolve(outputs[i]!));
    } catch (error) {
      for (const c of calls) c.reject(error);
    } finally {
      running = false;
      void run();
    }
  };

  return (input) =>
    new Promise<O>((resolve, reject) => {
      waiting.push({ input, resolve, reject });
      // setImmediate, not a microtask: the consumer hands a fetch's batches to its handlers over
      // several microtask turns, and they should all go in the first run.
      if (!running && !scheduled) {
        scheduled = true;
        setImmediate(() => void run());
      }
    });
}
