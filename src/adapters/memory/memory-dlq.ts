import type { Logger } from 'pino';
import type { DeadLetter, DeadLetterQueue } from '../../ports/log-consumer.js';

export interface MemoryDeadLetterQueue extends DeadLetterQueue {
  /** What was dead-lettered so far, oldest first. */
  readonly letters: ReadonlyArray<{ raw: DeadLetter; reason: string }>;
}

/** Dead letters kept in process (and logged, since nothing else will show them). */
export function createMemoryDeadLetterQueue(logger?: Logger): MemoryDeadLetterQueue {
  const letters: Array<{ raw: DeadLetter; reason: string }> = [];
  const log = logger?.child({ component: 'memory-dlq' });
  return {
    letters,
    publish: async (raw, reason) => {
      letters.push({ raw, reason });
      log?.warn({ reason, partition: raw.partition, offset: raw.offset }, 'message dead-lettered');
    },
  };
}
