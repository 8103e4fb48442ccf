import { GraphQLScalarType, Kind } from 'graphql';
import { formatMoney, parseMoney } from '../domain/money.js';
import { badInput } from '../domain/errors.js';
import { toGraphQLError } from '../http/errors.js';
import { fieldOfLiteral, shownValue } from './scalar-input.js';

// A GraphQLError, or graphql-js would put words of its own in front of the message.
const invalid = (field: string | null, shown: string) =>
  toGraphQLError(badInput(field ?? '', `Money must be a decimal string with exactly two fraction digits, e.g. "125.50"; got ${shown}.`));

export const MoneyScalar = new GraphQLScalarType<number, string>({
  name: 'Money',
  description:
    'A non-negative amount as a decimal string with exactly two fraction digits, e.g. "125.50",\nin the auction\'s currency. Anything else ("1e3", "12.5", "-1.00", 12.5) is BAD_USER_INPUT.',
  serialize: (value) => formatMoney(value as number),
  // A variable's own name and path are added by the input guard (http/input-guard.ts), which knows them.
  parseValue: (value) => {
    const minor = parseMoney(value);
    if (minor === null) throw invalid(null, shownValue(value));
    return minor;
  },
  parseLiteral: (ast) => {
    const minor = ast.kind === Kind.STRING ? parseMoney(ast.value) : null;
    if (minor === null) throw invalid(fieldOfLiteral(ast), ast.kind === Kind.STRING ? shownValue(ast.value) : 'a non-string literal');
    return minor;
  },
});
