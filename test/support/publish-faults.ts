import type { App } from '../../src/app.js';
import type { BidLog, BidPlacedMessage } from '../../src/ports/bid-log.js';

type Publish = BidLog['publish'];

/** Decides one publish attempt: `real` appends to the log; throwing fails the attempt. */
export type PublishFault = (message: BidPlacedMessage, options: { timeoutMs: number }, real: Publish) => Promise<void>;

/**
 * Puts `fault` between the app's gateway and its bid log (in-process or Kafka alike), for every
 * publish attempt of a bid, including the bid finisher's retries; `restore` puts the log back.
 * Ends and cancellations go straight to the log: the faults these tests plan are about bids.
 */
export function injectPublishFaults(app: Pick<App, 'deps'>, fault: PublishFault): { restore(): void } {
  const bidLog = app.deps.bidLog;
  const real = bidLog.publish;
  bidLog.publish = (message, options) => (message.type === 'BidPlaced' ? fault(message, options, real) : real(message, options));
  return {
    restore() {
      bidLog.publish = real;
    },
  };
}

/** Fails the attempt without writing: the log never had it. */
export const refuse = async (): Promise<void> => {
  throw new Error('simulated broker refusal');
};

/** Writes the message and then fails the attempt, like a timeout whose record did land. */
export const landThenTimeOut: PublishFault = async (message, options, real) => {
  await real(message, options);
  throw new Error('simulated publish timeout: the record landed, the acknowledgement did not');
};
