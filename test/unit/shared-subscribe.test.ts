import { GraphQLInt, GraphQLObjectType, GraphQLSchema, GraphQLString, parse, type ExecutionResult } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createSharedSubscribe } from '../../src/http/shared-subscribe.js';

/** A schema whose one subscription yields the given events and counts how often its fields run. */
function countingSchema(events: object[], refuse = false) {
  const runs = { value: 0 };
  const Event = new GraphQLObjectType({
    name: 'Event',
    fields: {
      n: { type: GraphQLInt, resolve: (event: { n: number }) => (runs.value++, event.n) },
      viewer: { type: GraphQLString, resolve: (_event, _args, context: { viewer: string | null }) => context.viewer },
    },
  });
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLInt } } }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: {
        events: {
          type: Event,
          args: { from: { type: GraphQLInt } },
          subscribe: refuse
            ? () => {
                throw new Error('refused');
              }
            : async function* () {
                yield* events;
              },
          resolve: (event: object) => event,
        },
      },
    }),
  });
  return { schema, runs };
}

async function collect(iterator: AsyncIterableIterator<ExecutionResult> | ExecutionResult): Promise<unknown[]> {
  const results: unknown[] = [];
  for await (const result of iterator as AsyncIterableIterator<ExecutionResult>) results.push(result.data);
  return results;
}

describe('shared subscription execution', () => {
  const document = parse('subscription($from: Int) { events(from: $from) { n viewer } }');
  const events = [{ n: 1 }, { n: 2 }];

  it('executes an event once for every subscriber with the same document, variables and viewer', async () => {
    const { schema, runs } = countingSchema(events);
    const subscribe = createSharedSubscribe((context) => (context as { viewer: string | null }).viewer);
    const streams = await Promise.all([1, 2, 3].map(() => subscribe({ schema, document, contextValue: { viewer: null } })));
    const received = await Promise.all(streams.map(collect));

    expect(received).toEqual(Array(3).fill([{ events: { n: 1, viewer: null } }, { events: { n: 2, viewer: null } }]));
    expect(runs.value).toBe(2);
  });

  it('executes separately for each viewer and for other variables, so nobody sees what is meant for another', async () => {
    const { schema, runs } = countingSchema(events);
    const subscribe = createSharedSubscribe((context) => (context as { viewer: string | null }).viewer);
    const [alice, bob, aliceFrom2] = await Promise.all([
      subscribe({ schema, document, contextValue: { viewer: 'alice' } }),
      subscribe({ schema, document, contextValue: { viewer: 'bob' } }),
      subscribe({ schema, document, contextValue: { viewer: 'alice' }, variableValues: { from: 2 } }),
    ]);
    const [forAlice, forBob] = await Promise.all([collect(alice!), collect(bob!), collect(aliceFrom2!)]);

    expect(forAlice).toEqual([{ events: { n: 1, viewer: 'alice' } }, { events: { n: 2, viewer: 'alice' } }]);
    expect(forBob).toEqual([{ events: { n: 1, viewer: 'bob' } }, { events: { n: 2, viewer: 'bob' } }]);
    expect(runs.value).toBe(6);
  });

  it('answers a subscription that cannot start with its errors, as graphql does', async () => {
    const { schema } = countingSchema(events, true);
    const result = (await createSharedSubscribe(() => null)({ schema, document })) as ExecutionResult;
    expect(result.errors?.map((e) => e.message)).toEqual(['refused']);
  });
});
