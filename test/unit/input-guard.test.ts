import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  getOperationAST,
  GraphQLInputObjectType,
  GraphQLInt,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
  parse,
  type OperationDefinitionNode,
} from 'graphql';
import { checkInputs, DEFAULT_MAX_STRING_LENGTH } from '../../src/http/input-guard.js';

const Address = new GraphQLInputObjectType({
  name: 'Address',
  fields: { street: { type: GraphQLString }, lines: { type: new GraphQLList(GraphQLString) } },
});
const NoteInput = new GraphQLInputObjectType({
  name: 'NoteInput',
  fields: {
    title: { type: new GraphQLNonNull(GraphQLString) },
    body: { type: GraphQLString, extensions: { maxLength: 5_000 } },
    address: { type: Address },
    count: { type: GraphQLInt },
  },
});
const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: 'Query',
    fields: {
      echo: { type: GraphQLString, args: { text: { type: GraphQLString }, note: { type: NoteInput } } },
      short: { type: GraphQLString, args: { code: { type: GraphQLString, extensions: { maxLength: 3 } } } },
    },
  }),
});

/** What checkInputs throws for a document and its variables, or undefined when it lets them through. */
function refusal(source: string, variables: Record<string, unknown> = {}) {
  const document = parse(source);
  try {
    checkInputs(schema, document, getOperationAST(document) as OperationDefinitionNode, variables);
  } catch (error) {
    return error as { message: string; extensions: Record<string, unknown> };
  }
  return undefined;
}

const unstorable = fc
  .tuple(fc.string({ maxLength: 10 }), fc.constantFrom('\u0000', '\uD800', '\uDFFF'), fc.string({ maxLength: 10 }))
  .map(([before, bad, after]) => `${before}${bad}${after}`);

describe('the input guard', () => {
  it('lets valid input through', () => {
    expect(refusal('query ($note: NoteInput) { echo(text: "hi", note: $note) }', { note: { title: 'A', address: { lines: ['1', '2'] } } })).toBeUndefined();
  });

  it('names the innermost input field of a variable that does not coerce, as a 400 before execution', () => {
    expect(refusal('query ($note: NoteInput) { echo(note: $note) }', { note: { title: 'A', count: 'many' } })?.extensions).toEqual({
      code: 'BAD_USER_INPUT',
      field: 'count',
      http: { status: 400 },
    });
    expect(refusal('query ($note: NoteInput) { echo(note: $note) }', { note: { title: 'A', colour: 'red' } })?.extensions).toMatchObject({ field: 'colour' });
    expect(refusal('query ($note: NoteInput) { echo(note: $note) }', { note: {} })?.extensions).toMatchObject({ field: 'title' });
    expect(refusal('query ($note: NoteInput!) { echo(note: $note) }', { note: null })?.extensions).toMatchObject({ field: 'note' });
    expect(refusal('query ($note: NoteInput!) { echo(note: $note) }')?.extensions).toMatchObject({ field: 'note' });
  });

  // A variable's string is judged where it is used, so the refusal names that argument or input field.
  it('refuses NUL and unpaired surrogates wherever a string sits, naming its field', () => {
    fc.assert(
      fc.property(unstorable, (bad) => {
        expect(refusal('query ($t: String) { echo(text: $t) }', { t: bad })?.extensions).toMatchObject({ field: 'text' });
        expect(refusal('query ($note: NoteInput) { echo(note: $note) }', { note: { title: bad } })?.extensions).toMatchObject({ field: 'title' });
        expect(refusal('query ($street: String) { echo(note: { title: "A", address: { street: $street } }) }', { street: bad })?.extensions).toMatchObject({ field: 'street' });
        expect(refusal('query ($lines: [String]) { echo(note: { title: "A", address: { lines: $lines } }) }', { lines: ['ok', bad] })?.extensions).toMatchObject({ field: 'lines' });
      }),
      { seed: 7, numRuns: 50 },
    );
  });

  it('refuses NUL written in the document, also inside a fragment', () => {
    expect(refusal('{ echo(text: "a\\u0000b") }')?.extensions).toMatchObject({ field: 'text' });
    expect(refusal('{ ...F } fragment F on Query { echo(note: { title: "a\\u0000b" }) }')?.extensions).toMatchObject({ field: 'title' });
  });

  it('bounds every string by its declared maximum length, or the default', () => {
    expect(refusal('query ($t: String) { echo(text: $t) }', { t: 'x'.repeat(DEFAULT_MAX_STRING_LENGTH) })).toBeUndefined();
    expect(refusal('query ($t: String) { echo(text: $t) }', { t: 'x'.repeat(DEFAULT_MAX_STRING_LENGTH + 1) })?.extensions).toMatchObject({ field: 'text' });
    expect(refusal('query ($b: String) { echo(note: { title: "A", body: $b }) }', { b: 'x'.repeat(5_000) })).toBeUndefined();
    expect(refusal('query ($b: String) { echo(note: { title: "A", body: $b }) }', { b: 'x'.repeat(5_001) })?.extensions).toMatchObject({ field: 'body' });
    expect(refusal('{ short(code: "abcd") }')?.message).toBe('code must have at most 3 characters.');
  });

  it('keeps a message short when the refused value is huge', () => {
    const message = refusal('query ($t: Int) { echo(note: { title: "A", count: $t }) }', { t: 'x'.repeat(100_000) })?.message ?? '';
    expect(message.length).toBeLessThanOrEqual(300);
  });
});
