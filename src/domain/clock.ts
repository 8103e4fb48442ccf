/** The one source of "now" for a decision. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** The signed-in user a request acts for, or null. */
export type Viewer = { id: string } | null;
