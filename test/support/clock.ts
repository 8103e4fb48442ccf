import type { Clock } from '../../src/ports/clock.js';

/**
 * The app's clock (startTestApp's `clock`), running with the real one but movable: a test travels
 * to "an hour later" instead of sleeping until an auction ends. Only the app's decisions move; the
 * price book keeps judging bids on its own clock (Redis's, or the process's).
 */
export interface MovableClock extends Clock {
  /** Runs `use` with the clock `offsetMs` away from the real one, then puts it back. */
  shifted<T>(offsetMs: number, use: () => Promise<T>): Promise<T>;
}

export function movableClock(): MovableClock {
  let offsetMs = 0;
  return {
    now: () => new Date(Date.now() + offsetMs),
    async shifted(offset, use) {
      offsetMs = offset;
      try {
        return await use();
      } finally {
        offsetMs = 0;
      }
    },
  };
}
