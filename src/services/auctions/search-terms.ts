// A search box's text, made safe for Postgres full-text search. Nothing the user types is read as
// tsquery syntax: the words go through plainto_tsquery, which only ever ANDs lexemes, and the one
// word matched as a prefix is passed on only when it is letters and digits alone.

/** The words of a search, as the SQL wants them. */
export interface SearchTerms {
  /** Words every match must contain whole, for plainto_tsquery ('' when there are none). */
  words: string;
  /** A last word that may also be the start of a longer one (lamp → lamps), or null. */
  prefix: string | null;
}

/** Words beyond this many narrow a search no further in practice and only make the query longer. */
export const MAX_SEARCH_WORDS = 10;
// A shorter prefix would match a large share of all words (every "a..."), making the index scan
// slow and the results no narrower.
const MIN_PREFIX_LENGTH = 3;
const SEARCHABLE = /[\p{L}\p{N}]/u;
const PREFIXABLE = /^[\p{L}\p{N}]+$/u;

/**
 * Splits a search into whole words and a prefix. The last word is matched as a prefix, so a user
 * still typing finds what they are typing ("brass lam" finds "brass lamp"), and "lamp" also finds
 * "lamps", which the 'simple' text search configuration does not stem. Null when the text has no
 * letter or digit: it has no word to match, and the listing is not narrowed by it, as for "".
 */
export function searchTerms(text: string): SearchTerms | null {
  const words = text.split(/\s+/).filter((word) => SEARCHABLE.test(word)).slice(0, MAX_SEARCH_WORDS);
  const last = words.at(-1);
  if (last === undefined) return null;
  if (last.length >= MIN_PREFIX_LENGTH && PREFIXABLE.test(last)) {
    return { words: words.slice(0, -1).join(' '), prefix: last };
  }
  return { words: words.join(' '), prefix: null };
}
