import type { LiveTransport } from './live-events.js';

/** Within one process every message is delivered directly. */
export function createMemoryTransport(): LiveTransport {
  let deliver: (channel: string, payload: string) => void = () => {};
  return {
    async publish(messages) {
      for (const { channel, payload } of messages) deliver(channel, payload);
    },
    async subscribe() {},
    async unsubscribe() {},
    onMessage(handler) {
      deliver = handler;
    },
    async close() {},
  };
}
