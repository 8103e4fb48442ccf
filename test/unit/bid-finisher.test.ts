import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { BidNotLoggedError, createBidFinisher } from '../../src/services/bids/bid-finisher.js';
import type { AuctionLogMessage, BidLog } from '../../src/ports/bid-log.js';
import { bidPlacedNow } from '../support/bid-messages.js';

/** A bid log whose every publish waits for the test to settle it. */
function scriptedLog() {
  const attempts: Array<{ message: AuctionLogMessage; resolve(): void; reject(error: Error): void }> = [];
  const log: BidLog = {
    publish: (message) => new Promise<void>((resolve, reject) => attempts.push({ message, resolve, reject })),
    isCaughtUp: async () => true,
    close: async () => {},
  };
  return { log, attempts };
}

function capturedLogs() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

const silent = pino({ level: 'silent' });
const auctionId = '6f1c8a52-43a4-4c8e-9d55-3e1b2a9f0c11';

describe('the bid finisher', () => {
  it('publishes the same message again after each failure and resolves once the log takes it', async () => {
    const { log, attempts } = scriptedLog();
    const finisher = createBidFinisher({ bidLog: log, logger: silent, retryDelayMs: () => 1 });
    const message = bidPlacedNow(auctionId, 1);
    let settled = false;
    const done = finisher.publish(message).then(() => (settled = true));

    await vi.waitFor(() => expect(attempts).toHaveLength(1));
    attempts[0]!.reject(new Error('refused'));
    await vi.waitFor(() => expect(attempts).toHaveLength(2));
    attempts[1]!.reject(new Error('timed out'));
    await vi.waitFor(() => expect(attempts).toHaveLength(3));
    expect(settled).toBe(false);
    attempts[2]!.resolve();
    await done;

    expect(attempts.map((a) => a.message)).toEqual([message, message, message]);
  });

  it('says the log is failing only while an accepted bid waits on it after a failure', async () => {
    const { log, attempts } = scriptedLog();
    const finisher = createBidFinisher({ bidLog: log, logger: silent, retryDelayMs: () => 1 });
    const done = finisher.publish(bidPlacedNow(auctionId, 1));

    await vi.waitFor(() => expect(attempts).toHaveLength(1));
    expect(finisher.failing).toBe(false);
    attempts[0]!.reject(new Error('refused'));
    await vi.waitFor(() => expect(attempts).toHaveLength(2));
    expect(finisher.failing).toBe(true);
    attempts[1]!.resolve();
    await done;
    expect(finisher.failing).toBe(false);
  });

  it('shares the attempts of one bid between all its callers', async () => {
    const { log, attempts } = scriptedLog();
    const finisher = createBidFinisher({ bidLog: log, logger: silent, retryDelayMs: () => 1 });
    const message = bidPlacedNow(auctionId, 1);
    const first = finisher.publish(message);
    const retried = finisher.publish(structuredClone(message));

    await vi.waitFor(() => expect(attempts).toHaveLength(1));
    attempts[0]!.resolve();
    await Promise.all([first, retried]);
    expect(attempts).toHaveLength(1);
  });

  it('tells which auctions have a bid on its way to the log', async () => {
    const { log, attempts } = scriptedLog();
    const finisher = createBidFinisher({ bidLog: log, logger: silent });
    const done = finisher.publish(bidPlacedNow(auctionId, 1));

    expect(finisher.hasPending(auctionId)).toBe(true);
    expect(finisher.hasPending('3d0b7c43-8f4e-4f57-a3e4-0b7b8c2f1d20')).toBe(false);
    await vi.waitFor(() => expect(attempts).toHaveLength(1));
    attempts[0]!.resolve();
    await done;
    expect(finisher.hasPending(auctionId)).toBe(false);
  });

  it('lets a pending bid land during the grace of close', async () => {
    const { log, attempts } = scriptedLog();
    const finisher = createBidFinisher({ bidLog: log, logger: silent, retryDelayMs: () => 1 });
    const done = finisher.publish(bidPlacedNow(auctionId, 1));
    await vi.waitFor(() => expect(attempts).toHaveLength(1));

    const closed = finisher.close(60_000);
    attempts[0]!.resolve();
    await closed;
    await expect(done).resolves.toBeUndefined();
  });

  it('stops at close without waiting for an unacknowledged attempt, failing the waiters and naming each bid at error level', async () => {
    const { log, attempts } = scriptedLog();
    const { logger, lines } = capturedLogs();
    const finisher = createBidFinisher({ bidLog: log, logger, retryDelayMs: () => 1 });
    const message = bidPlacedNow(auctionId, 1);
    const done = finisher.publish(message);
    const outcome = done.then(
      () => 'logged',
      (error: unknown) => error,
    );
    await vi.waitFor(() => expect(attempts).toHaveLength(1));

    await finisher.close(0);

    expect(await outcome).toBeInstanceOf(BidNotLoggedError);
    expect(attempts).toHaveLength(1);
    expect(lines.filter((line) => line.level === 50)).toEqual([expect.objectContaining({ bidId: message.id, auctionId, seq: 1 })]);
    await expect(finisher.publish(bidPlacedNow(auctionId, 2))).rejects.toBeInstanceOf(BidNotLoggedError);
  });
});
