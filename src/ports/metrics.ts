/** What the use cases count for operators (Prometheus in production); the domain never sees it. */
export interface UseCaseMetrics {
  /** A new bid the log holds; the replay of a retried idempotency key is not counted again. */
  bidAccepted(): void;
  /** A bid that was not accepted, by the contract code its bidder got. */
  bidRefused(code: string): void;
  /** What became of one outbid SMS notice (SENT, SUPPRESSED, FAILED, ...). */
  outbidSms(outcome: string): void;
  /** A bid-log message the bid worker dead-lettered: an accepted bid that will not be persisted. */
  bidDeadLettered(cause: DeadLetterCause): void;
  /**
   * What the closing job made of one claimed auction (ended, cancelled, not-due, failed); for an
   * end, how long after the auction's end the log held it.
   */
  auctionClosed(outcome: string, lateBySeconds?: number): void;
}

/** Why the bid worker dead-lettered a message: it could not be read, or Postgres refused its data. */
export type DeadLetterCause = 'invalid' | 'refused';
