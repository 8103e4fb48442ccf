/**
 * An async generator that can be closed while it waits. `return()` on a generator suspended in an
 * `await` only takes effect once that await settles, so an idle subscription would linger until
 * its next event; closing the source first ends the wait at once.
 */
export function closable<T>(generator: AsyncGenerator<T>, source: AsyncIterator<unknown>): AsyncIterableIterator<T> {
  const iterator: AsyncIterableIterator<T> = {
    [Symbol.asyncIterator]: () => iterator,
    next: () => generator.next(),
    async return() {
      await source.return?.();
      return generator.return(undefined);
    },
    async throw(error: unknown) {
      await source.return?.();
      return generator.throw(error);
    },
  };
  return iterator;
}
