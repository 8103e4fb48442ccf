import { describe, expect, it } from 'vitest';
import { createProduceBatcher, ExpiredBeforeSendError } from '../../src/adapters/kafka/produce-batcher.js';

/** A send whose requests the test settles by hand, recording what each one carried. */
function manualSend() {
  const requests: Array<{ items: number[]; timeoutMs: number; ack(): void; fail(error: Error): void }> = [];
  const send = (items: number[], timeoutMs: number) =>
    new Promise<void>((ack, fail) => {
      requests.push({ items, timeoutMs, ack, fail });
    });
  return { send, requests };
}

const settled = async <T>(promise: Promise<T>) => promise.then(() => 'resolved', (error: unknown) => error);
const flushMicrotasks = () => new Promise((resolve) => setImmediate(resolve));

describe('sharing produce requests', () => {
  it('sends what arrives within the linger in one request, in the order it arrived', async () => {
    const { send, requests } = manualSend();
    const batcher = createProduceBatcher({ send, lingerMs: 5, maxItems: 100 });
    const publishes = [1, 2, 3].map((n) => batcher.add(n, 1_000));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(requests.map((r) => r.items)).toEqual([[1, 2, 3]]);
    requests[0]!.ack();
    expect(await Promise.all(publishes.map(settled))).toEqual(['resolved', 'resolved', 'resolved']);
  });

  it('keeps one request in flight and sends what queued meanwhile as the next one, at most maxItems at a time', async () => {
    const { send, requests } = manualSend();
    const batcher = createProduceBatcher({ send, lingerMs: 0, maxItems: 2 });
    const first = batcher.add(1, 1_000);
    const later = [2, 3, 4].map((n) => batcher.add(n, 1_000));
    await flushMicrotasks();
    expect(requests.map((r) => r.items)).toEqual([[1]]);

    requests[0]!.ack();
    await first;
    await flushMicrotasks();
    expect(requests.map((r) => r.items)).toEqual([[1], [2, 3]]);
    requests[1]!.ack();
    await flushMicrotasks();
    expect(requests.map((r) => r.items)).toEqual([[1], [2, 3], [4]]);
    requests[2]!.ack();
    expect(await Promise.all(later.map(settled))).toEqual(['resolved', 'resolved', 'resolved']);
  });

  it('rejects exactly the callers of a failed request with its error, and resolves the others', async () => {
    const { send, requests } = manualSend();
    const batcher = createProduceBatcher({ send, lingerMs: 0, maxItems: 10 });
    const first = settled(batcher.add(1, 1_000));
    const second = [2, 3].map((n) => batcher.add(n, 1_000));
    const refused = new Error('NOT_ENOUGH_REPLICAS');
    requests[0]!.fail(refused);
    await flushMicrotasks();
    requests[1]!.ack();
    expect(await first).toBe(refused);
    expect(await Promise.all(second.map(settled))).toEqual(['resolved', 'resolved']);
  });

  it('never sends an item whose deadline passed while the request before it was in flight, and bounds the broker wait by the callers still waiting', async () => {
    const { send, requests } = manualSend();
    const batcher = createProduceBatcher({ send, lingerMs: 0, maxItems: 10 });
    void batcher.add(1, 1_000);
    const expiring = settled(batcher.add(2, 10));
    const waiting = batcher.add(3, 5_000);
    await new Promise((resolve) => setTimeout(resolve, 30));
    requests[0]!.ack();
    expect(await expiring).toBeInstanceOf(ExpiredBeforeSendError);
    expect(requests[1]!.items).toEqual([3]);
    expect(requests[1]!.timeoutMs).toBeGreaterThan(4_000);
    expect(requests[1]!.timeoutMs).toBeLessThanOrEqual(5_000);
    requests[1]!.ack();
    expect(await settled(waiting)).toBe('resolved');
  });

  it('sends everything still queued before drain resolves', async () => {
    const sent: number[][] = [];
    const batcher = createProduceBatcher({ send: async (items: number[]) => void sent.push(items), lingerMs: 60_000, maxItems: 10 });
    const publishes = [1, 2].map((n) => batcher.add(n, 1_000));
    await batcher.drain();
    expect(sent).toEqual([[1, 2]]);
    expect(await Promise.all(publishes.map(settled))).toEqual(['resolved', 'resolved']);
  });
});
