import { EventEmitter, on } from 'node:events';
import type { Logger } from 'pino';
import type { LiveAuctionEvent, LiveEvents, LiveOutbid } from '../../services/ports.js';
import { unavailable } from '../../domain/errors.js';

/** How messages travel between processes: Redis sharded pub/sub, or nothing at all in one process. */
export interface LiveTransport {
  /** Resolves once every message is handed over. */
  publish(messages: Array<{ channel: string; payload: string }>): Promise<void>;
  /** Resolves once the channel's messages are being received. */
  subscribe(channel: string): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
  onMessage(handler: (channel: string, payload: string) => void): void;
  close(): Promise<void>;
}

// The braces are a Redis Cluster hash tag: an auction's (or a user's) channel lives on the shard of its keys.
export const auctionChannel = (prefix: string, auctionId: string) => `${prefix}live:{${auctionId}}:events`;
export const outbidChannel = (prefix: string, userId: string) => `${prefix}live:{${userId}}:outbid`;

/**
 * Live events over a transport. Each gateway subscribes to a channel once, however many of its
 * clients watch it, and parses each message once before handing it to all of them.
 */
export function createLiveEvents(transport: LiveTransport, options: { keyPrefix: string; logger: Logger }): LiveEvents {
  const { keyPrefix, logger } = options;
  const local = new EventEmitter();
  // One listener per watching client; tens of thousands on a busy auction are expected.
  local.setMaxListeners(0);
  const channels = new Map<string, { watchers: number; subscribed: Promise<void> }>();

  transport.onMessage((channel, payload) => {
    if (local.listenerCount(channel) === 0) return;
    try {
      local.emit(channel, JSON.parse(payload));
    } catch (error) {
      logger.error({ err: error, channel }, 'unreadable live event dropped');
    }
  });

  const release = (channel: string) => {
    const entry = channels.get(channel);
    if (!entry || --entry.watchers > 0) return;
    channels.delete(channel);
    transport.unsubscribe(channel).catch((error: unknown) => logger.warn({ err: error, channel }, 'unsubscribe failed'));
  };

  async function watch<T>(channel: string): Promise<AsyncIterableIterator<T>> {
    // Listening locally before the transport subscribes, so nothing between the two is missed.
    const abort = new AbortController();
    const messages = on(local, channel, { signal: abort.signal });
    let entry = channels.get(channel);
    if (!entry) {
      entry = { watchers: 0, subscribed: transport.subscribe(channel) };
      channels.set(channel, entry);
    }
    entry.watchers += 1;
    try {
      await entry.subscribed;
    } catch (error) {
      abort.abort();
      release(channel);
      logger.warn({ err: error, channel }, 'live subscription failed');
      throw unavailable('Live updates are unavailable right now; try again shortly.');
    }
    let released = false;
    const stop = () => {
      if (released) return;
      released = true;
      release(channel);
      abort.abort();
    };
    const iterator: AsyncIterableIterator<T> = {
      [Symbol.asyncIterator]: () => iterator,
      async next() {
        if (released) return { done: true, value: undefined };
        try {
          const result = await messages.next();
          return result.done ? { done: true, value: undefined } : { done: false, value: (result.value as [T])[0] };
        } catch (error) {
          if (abort.signal.aborted) return { done: true, value: undefined };
          throw error;
        }
      },
      async return() {
        stop();
        return { done: true, value: undefined };
      },
      async throw(error: unknown) {
        stop();
        throw error;
      },
    };
    return iterator;
  }

  const publish = (messages: Array<{ channel: string; payload: unknown }>) =>
    messages.length === 0 ? Promise.resolve() : transport.publish(messages.map((m) => ({ channel: m.channel, payload: JSON.stringify(m.payload) })));

  return {
    publishAuctionEvents: (events: LiveAuctionEvent[]) => publish(events.map((e) => ({ channel: auctionChannel(keyPrefix, e.auctionId), payload: e }))),
    publishOutbids: (notices: LiveOutbid[]) => publish(notices.map((n) => ({ channel: outbidChannel(keyPrefix, n.userId), payload: n }))),
    auctionEvents: (auctionId) => watch<LiveAuctionEvent>(auctionChannel(keyPrefix, auctionId)),
    outbids: (userId) => watch<LiveOutbid>(outbidChannel(keyPrefix, userId)),
    close: () => transport.close(),
  };
}
