import type { Clock } from '../ports/clock.js';

/** The process's own clock. */
export const systemClock: Clock = { now: () => new Date() };
