/** The one source of "now" for a decision. */
export interface Clock {
  now(): Date;
}
