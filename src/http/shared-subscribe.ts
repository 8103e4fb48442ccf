import { createSourceEventStream, execute, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';

type Result = ExecutionResult | Promise<ExecutionResult>;

/**
 * graphql's `subscribe`, except that each event is executed once per document, variables and
 * viewer on this gateway, however many clients subscribed with them: ten thousand watchers of one
 * auction cost one execution per event, not ten thousand. An event is recognised by identity, so
 * sources must hand every subscriber the same object for the same event (LiveEvents does).
 */
export function createSharedSubscribe(viewerOf: (context: unknown) => string | null) {
  const results = new WeakMap<object, Map<string, Result>>();
  const documentIds = new WeakMap<DocumentNode, number>();
  let documentCount = 0;

  return async function subscribe(args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
    const stream = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in stream)) return stream;
    let documentId = documentIds.get(args.document);
    if (documentId === undefined) documentIds.set(args.document, (documentId = documentCount++));
    const key = JSON.stringify([documentId, args.operationName ?? null, viewerOf(args.contextValue), args.variableValues ?? null]);
    const run = (event: unknown): Result => {
      if (event === null || typeof event !== 'object') return execute({ ...args, rootValue: event });
      let byKey = results.get(event);
      if (!byKey) results.set(event, (byKey = new Map()));
      let result = byKey.get(key);
      if (!result) byKey.set(key, (result = execute({ ...args, rootValue: event })));
      return result;
    };
    const source = stream[Symbol.asyncIterator]();
    const iterator: AsyncIterableIterator<ExecutionResult> = {
      [Symbol.asyncIterator]: () => iterator,
      async next() {
        const next = await source.next();
        return next.done ? { done: true, value: undefined } : { done: false, value: await run(next.value) };
      },
      return: async () => {
        await source.return?.();
        return { done: true, value: undefined };
      },
      throw: async (error: unknown) => {
        await source.return?.();
        throw error;
      },
    };
    return iterator;
  };
}
