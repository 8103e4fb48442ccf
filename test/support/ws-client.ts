import type { ResultOf, TypedDocumentNode, VariablesOf } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { GraphQLErrorBody } from './client.js';

/** A graphql-ws connection, as a browser or app would open it; resolves once the server acknowledged it. */
export async function connect(wsUrl: string, token?: string): Promise<Client> {
  const client = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    lazy: false,
    retryAttempts: 0,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    // The 'closed' listener below reports it; the default would print it.
    onNonLazyError: () => {},
  });
  await new Promise<void>((resolve, reject) => {
    client.on('connected', () => resolve());
    client.on('closed', (event) => reject(new Error(`closed with ${(event as { code?: number }).code}`)));
  });
  return client;
}

/**
 * The close code a connection attempt ends with (0 when it was accepted instead). `webSocketImpl`
 * lets a test connect from elsewhere, say another local address.
 */
export async function closeCodeOf(wsUrl: string, connectionParams: Record<string, unknown>, webSocketImpl: unknown = WebSocket): Promise<number> {
  const client = createClient({ url: wsUrl, webSocketImpl, lazy: false, retryAttempts: 0, connectionParams, onNonLazyError: () => {} });
  const code = await new Promise<number>((resolve) => {
    client.on('connected', () => resolve(0));
    client.on('closed', (event) => resolve((event as { code: number }).code));
  });
  await client.dispose();
  return code;
}

export interface Subscription<T> {
  readonly events: T[];
  readonly errors: GraphQLErrorBody[];
  readonly done: boolean;
  /** Waits until `count` events arrived (or the subscription ended), failing after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<T[]>;
  /** Waits until the subscription ended, with an error or completed. */
  ended(timeoutMs?: number): Promise<void>;
  stop(): void;
}

/** Starts a typed subscription on a connection and collects what it delivers. */
export function subscribe<D extends TypedDocumentNode<any, any>>(client: Client, document: D, variables?: VariablesOf<D>): Subscription<ResultOf<D>> {
  const events: Array<ResultOf<D>> = [];
  const errors: GraphQLErrorBody[] = [];
  let done = false;
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const waiter of waiters) waiter();
  };
  const stop = client.subscribe<ResultOf<D>>(
    { query: print(document), variables: variables as Record<string, unknown> | undefined },
    {
      next: (result) => {
        if (result.errors) errors.push(...(result.errors as unknown as GraphQLErrorBody[]));
        if (result.data) events.push(result.data);
        wake();
      },
      error: (error) => {
        if (Array.isArray(error)) errors.push(...(error as GraphQLErrorBody[]));
        else errors.push({ message: String((error as { reason?: string })?.reason ?? error) });
        done = true;
        wake();
      },
      complete: () => {
        done = true;
        wake();
      },
    },
  );
  const until = (ready: () => boolean, timeoutMs: number, what: string) =>
    new Promise<void>((resolve, reject) => {
      if (ready()) return resolve();
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; got ${events.length} events, errors ${JSON.stringify(errors)}`));
      }, timeoutMs);
      const check = () => {
        if (!ready()) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      waiters.add(check);
    });
  return {
    events,
    errors,
    get done() {
      return done;
    },
    async waitFor(count, timeoutMs = 15_000) {
      await until(() => events.length >= count || done, timeoutMs, `${count} events`);
      return events;
    },
    ended: (timeoutMs = 15_000) => until(() => done, timeoutMs, 'the end of the subscription'),
    stop,
  };
}
