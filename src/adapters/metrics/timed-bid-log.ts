import type { BidLog } from '../../ports/bid-log.js';

/** The bid log, with the time each publish takes to be acknowledged (or to fail) reported to `observe`. */
export function timedBidLog(bidLog: BidLog, observe: (seconds: number, outcome: 'ok' | 'error') => void): BidLog {
  return {
    publish: async (message, options) => {
      const startedAt = performance.now();
      try {
        await bidLog.publish(message, options);
        observe((performance.now() - startedAt) / 1000, 'ok');
      } catch (error) {
        observe((performance.now() - startedAt) / 1000, 'error');
        throw error;
      }
    },
    isCaughtUp: (auctionId, options) => bidLog.isCaughtUp(auctionId, options),
    close: () => bidLog.close(),
  };
}
