import type { GraphQLFormattedError } from 'graphql';

// graphql-js appends its guesses at the end of a sentence: ` Did you mean "title"?`,
// ` Did you mean "id", "title", or "seller"?`, ` Did you mean the enum value "ACTIVE"?`.
// Names never contain a question mark, so the guess ends at the first one.
const SUGGESTION = /\s*Did you mean [^?]*\?/g;

/** The message without graphql-js's "Did you mean" guesses, which name fields and values of the schema. */
export const withoutSuggestions = (message: string): string => message.replace(SUGGESTION, '');

type FormatError = (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;

/**
 * An error formatter that also drops "Did you mean" guesses: with introspection off, they would
 * still let a client discover the schema one misspelt field at a time.
 */
export function hidingSuggestions(format: FormatError): FormatError {
  return (formatted, error) => {
    const shaped = format(formatted, error);
    return { ...shaped, message: withoutSuggestions(shaped.message) };
  };
}
