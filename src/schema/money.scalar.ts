import { GraphQLScalarType, Kind } from 'graphql';
import { formatMoney, parseMoney } from '../domain/money.js';
import { badInput } from '../domain/errors.js';

const invalid = (shown: string) =>
  badInput('', `Money must be a decimal string with exactly two fraction digits, e.g. "125.50"; got ${shown}.`);

export const MoneyScalar = new GraphQLScalarType<number, string>({
  name: 'Money',
  description:
    'A non-negative amount as a decimal string with exactly two fraction digits, e.g. "125.50",\nin the auction\'s currency. Anything else ("1e3", "12.5", "-1.00", 12.5) is BAD_USER_INPUT.',
  serialize: (value) => formatMoney(value as number),
  parseValue: (value) => {
    const minor = parseMoney(value);
    if (minor === null) throw invalid(JSON.stringify(value));
    return minor;
  },
  parseLiteral: (ast) => {
    const minor = ast.kind === Kind.STRING ? parseMoney(ast.value) : null;
    if (minor === null) throw invalid(ast.kind === Kind.STRING ? JSON.stringify(ast.value) : 'a non-string literal');
    return minor;
  },
});
