import type { Logger } from 'pino';
import type { LiveAuctionEvent, LiveEvents, LiveNotice, LiveOutbid } from '../../ports/live-events.js';
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
export const noticeChannel = (prefix: string, userId: string) => `${prefix}live:{${userId}}:notices`;

/**
 * Live events over a transport. Each gateway subscribes to a channel once, however many of its
 * clients watch it, and parses each message once before handing it to all of them.
 */
/** Events kept for one watcher that is not reading, beyond which the oldest are dropped. */
const MAX_QUEUED = 1_000;

export function createLiveEvents(transport: LiveTransport, options: { keyPrefix: string; logger: Logger; maxQueued?: number }): LiveEvents {
  const { keyPrefix, logger } = options;
  const maxQueued = options.maxQueued ?? MAX_QUEUED;
  const channels = new Map<string, { watchers: Set<(message: unknown) => void>; subscribed: Promise<void> }>();

  transport.onMessage((channel, payload) => {
    const watchers = channels.get(channel)?.watchers;
    if (!watchers || watchers.size === 0) return;
    let message: unknown;
    try {
      message = JSON.parse(payload);
    } catch (error) {
      logger.error({ err: error, channel }, 'unreadable live event dropped');
      return;
    }
    for (const deliver of watchers) deliver(message);
  });

  const leave = (channel: string, deliver: (message: unknown) => void) => {
    const entry = channels.get(channel);
    if (!entry || !entry.watchers.delete(deliver) || entry.watchers.size > 0) return;
    channels.delete(channel);
    transport.unsubscribe(channel).catch((error: unknown) => logger.warn({ err: error, channel }, 'unsubscribe failed'));
  };

  async function watch<T>(channel: string): Promise<AsyncIterableIterator<T>> {
    // Tens of thousands of these may sit idle on one gateway, so each is a bare queue.
    const queue: T[] = [];
    let waiting: ((result: IteratorResult<T>) => void) | undefined;
    let closed = false;
    let dropping = false;
    const deliver = (message: unknown) => {
      if (!waiting) {
        // A client that stops reading must not hold the gateway's memory: it loses the oldest
        // events, and the seq gap this leaves is filled from Postgres once it reads again.
        if (queue.length >= maxQueued) {
          queue.shift();
          if (!dropping) logger.warn({ channel, maxQueued }, 'a watcher fell behind; dropping its oldest live events');
          dropping = true;
        }
        return void queue.push(message as T);
      }
      dropping = false;
      const wake = waiting;
      waiting = undefined;
      wake({ done: false, value: message as T });
    };
    // Listening before the transport subscribes, so nothing between the two is missed.
    let entry = channels.get(channel);
    if (!entry) {
      entry = { watchers: new Set(), subscribed: transport.subscribe(channel) };
      channels.set(channel, entry);
    }
    entry.watchers.add(deliver);
    try {
      await entry.subscribed;
    } catch (error) {
      leave(channel, deliver);
      logger.warn({ err: error, channel }, 'live subscription failed');
      throw unavailable('Live updates are unavailable right now; try again shortly.');
    }
    const close = () => {
      if (closed) return;
      closed = true;
      queue.length = 0;
      leave(channel, deliver);
      waiting?.({ done: true, value: undefined });
      waiting = undefined;
    };
    const iterator: AsyncIterableIterator<T> = {
      [Symbol.asyncIterator]: () => iterator,
      next: () => {
        if (queue.length > 0) return Promise.resolve({ done: false, value: queue.shift()! });
        if (closed) return Promise.resolve({ done: true, value: undefined });
        return new Promise((resolve) => (waiting = resolve));
      },
      async return() {
        close();
        return { done: true, value: undefined };
      },
      async throw(error: unknown) {
        close();
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
    publishNotices: (notices: LiveNotice[]) => publish(notices.map((n) => ({ channel: noticeChannel(keyPrefix, n.userId), payload: n }))),
    auctionEvents: (auctionId) => watch<LiveAuctionEvent>(auctionChannel(keyPrefix, auctionId)),
    outbids: (userId) => watch<LiveOutbid>(outbidChannel(keyPrefix, userId)),
    notices: (userId) => watch<LiveNotice>(noticeChannel(keyPrefix, userId)),
    close: () => transport.close(),
  };
}
