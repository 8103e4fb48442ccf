// A lone UTF-16 surrogate has no UTF-8 form: the Postgres driver would store U+FFFD in its place, a
// different string from the one the price book holds. NUL is refused by Postgres text outright.
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether Postgres can store the text exactly as given: no NUL, no unpaired surrogate. */
export function isStorableText(text: string): boolean {
  return !UNSTORABLE.test(text);
}
