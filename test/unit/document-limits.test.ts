import fc from 'fast-check';
import { GraphQLError, Kind, parse, visit, type DocumentNode, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/domain/errors.js';
import { loadConfig } from '../../src/config/config.js';
import { measureDocument, parseWithinLimits, repeatedFields, type DocumentLimits } from '../../src/http/document-limits.js';

// The defaults a gateway starts with (test/unit/config-limits.test.ts spells them out).
const limits: DocumentLimits = loadConfig({}, false).limits.document;

/** The document of the incident: each fragment spreads the next twice, `levels` deep, about 1 KB at 30. */
function doublingFragments(levels: number): string {
  const lines = ['query { ...F0 }'];
  for (let i = 0; i < levels; i++) lines.push(`fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`);
  lines.push(`fragment F${levels} on Query { serverTime }`);
  return lines.join('\n');
}

/** Fragments that each spread the next one once: flat text, deep recursion. */
function fragmentChain(length: number): string {
  const lines = ['query { ...F0 }'];
  for (let i = 0; i < length; i++) lines.push(`fragment F${i} on Query { ...F${i + 1} }`);
  lines.push(`fragment F${length} on Query { serverTime }`);
  return lines.join('\n');
}

/** Selection nodes as written: what a linear measurement may look at, each once. */
function selectionsIn(document: DocumentNode): number {
  let count = 0;
  visit(document, {
    Field: () => void count++,
    FragmentSpread: () => void count++,
    InlineFragment: () => void count++,
  });
  return count;
}

/** The count by brute force: every spread expanded where it stands, as validation walks it. */
function naiveExpandedFields(document: DocumentNode): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const sizeOf = (selectionSet: SelectionSetNode): number =>
    selectionSet.selections.reduce((size, selection) => {
      if (selection.kind === Kind.FRAGMENT_SPREAD) return size + 1 + sizeOf(fragments.get(selection.name.value)!.selectionSet);
      return size + 1 + (selection.selectionSet ? sizeOf(selection.selectionSet) : 0);
    }, 0);
  return document.definitions.reduce(
    (total, definition) => total + (definition.kind === Kind.OPERATION_DEFINITION || definition.kind === Kind.FRAGMENT_DEFINITION ? sizeOf(definition.selectionSet) : 0),
    0,
  );
}

function refusalOf(source: string, within: Partial<DocumentLimits> = {}): AppError {
  try {
    parseWithinLimits(source, { ...limits, ...within });
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('the document was accepted');
}

describe('the expanded size of a document', () => {
  it('counts the 30-level doubling fragments as the billions of fields they expand to, looking at each written selection once', () => {
    const document = parse(doublingFragments(30));
    const measure = measureDocument(document);
    expect(measure.expandedFields).toBeGreaterThan(2 ** 30);
    expect(measure.visited).toBe(selectionsIn(document));
  });

  it('does work that grows with the text, not with what it expands to, however deep the doubling goes', () => {
    for (const levels of [10, 100, 1000]) {
      const document = parse(doublingFragments(levels));
      expect(measureDocument(document).visited).toBe(2 * levels + 2);
    }
  });

  it('arrives at the same count as expanding every spread in place', () => {
    // Fragments may spread only later ones, so every generated document is free of cycles.
    const item = (index: number, count: number) =>
      fc.oneof(
        fc.constant('serverTime'),
        fc.constant('me { id displayName }'),
        fc.constant('... on Query { serverTime }'),
        ...(index + 1 < count ? [fc.integer({ min: index + 1, max: count - 1 }).map((target) => `...F${target}`)] : []),
      );
    const documents = fc.integer({ min: 1, max: 6 }).chain((count) =>
      fc
        .tuple(...Array.from({ length: count }, (_, index) => fc.array(item(index, count), { minLength: 1, maxLength: 4 })))
        .map((bodies) => [`query { ...F0 serverTime }`, ...bodies.map((body, index) => `fragment F${index} on Query { ${body.join(' ')} }`)].join('\n')),
    );
    fc.assert(
      fc.property(documents, (source) => {
        const document = parse(source);
        const measure = measureDocument(document);
        expect(measure.expandedFields).toBe(naiveExpandedFields(document));
        expect(measure.visited).toBe(selectionsIn(document));
      }),
    );
  });

  it('stops at a fragment that spreads itself instead of looping', () => {
    const measure = measureDocument(parse('query { ...A } fragment A on Query { serverTime ...B } fragment B on Query { ...A }'));
    expect(measure.expandedFields).toBeGreaterThan(0);
  });
});

describe('aliases, directives and repeated fields', () => {
  it('counts aliases and directives as written, wherever they stand', () => {
    const measure = measureDocument(
      parse('query Q($skip: Boolean!) @a { a: serverTime @skip(if: $skip) b: me @include(if: true) { c: id } ...F @b } fragment F on Query @c { serverTime }'),
    );
    expect(measure.aliases).toBe(3);
    expect(measure.directives).toBe(5);
  });

  it('counts a field again only where its response path was selected before, by any fragment', () => {
    expect(repeatedFields(parse('{ me { id } auction(id: "1") { id } }'))).toBe(0);
    expect(repeatedFields(parse('{ a: serverTime serverTime }'))).toBe(0);
    expect(repeatedFields(parse('{ me { id } me { id } }'))).toBe(2);
    expect(repeatedFields(parse('{ me { id ...U } } fragment U on User { id displayName }'))).toBe(1);
    expect(repeatedFields(parse('{ serverTime ... on Query { serverTime } }'))).toBe(1);
  });
});

describe('parsing within the limits', () => {
  it('accepts a document exactly at every limit, and refuses it with any one limit lower', () => {
    const source = '{ a: serverTime a: serverTime @skip(if: false) }';
    const measure = measureDocument(parse(source));
    const exactly: DocumentLimits = {
      maxBytes: Buffer.byteLength(source),
      // { a : serverTime a : serverTime @ skip ( if : false ) }
      maxTokens: 15,
      maxAliases: measure.aliases,
      maxDirectives: measure.directives,
      maxExpandedFields: measure.expandedFields,
      maxRepeatedFields: 1,
    };
    expect(parseWithinLimits(source, exactly).kind).toBe(Kind.DOCUMENT);
    for (const key of Object.keys(exactly) as Array<keyof DocumentLimits>) {
      expect(() => parseWithinLimits(source, { ...exactly, [key]: exactly[key] - 1 }), key).toThrow(AppError);
    }
  });

  it.each([
    ['a document longer than the byte limit, counted in UTF-8', `{ serverTime } # ${'é'.repeat(60)}`, { maxBytes: 100 }, 'DOCUMENT_TOO_LARGE'],
    ['more tokens than the limit', `{ ${'serverTime '.repeat(100)}}`, { maxTokens: 50 }, 'TOO_MANY_TOKENS'],
    ['more aliases than the limit', `{ ${Array.from({ length: 11 }, (_, i) => `a${i}: serverTime`).join(' ')} }`, { maxAliases: 10 }, 'TOO_MANY_ALIASES'],
    ['more directives than the limit', `{ serverTime${' @include(if: true)'.repeat(11)} }`, { maxDirectives: 10 }, 'TOO_MANY_DIRECTIVES'],
    ['the 30-level doubling fragments', doublingFragments(30), {}, 'TOO_MANY_FIELDS'],
    ['more repeated fields than the limit', `{ ${'me { id } '.repeat(6)}}`, { maxRepeatedFields: 9 }, 'TOO_MANY_REPEATED_FIELDS'],
    ['nesting deep enough to exhaust the parser', `{ ${'me { '.repeat(20_000)}id${' }'.repeat(20_000)} }`, { maxBytes: 1_000_000, maxTokens: 50_000 }, 'TOO_DEEP'],
    ['a chain of fragments long enough to exhaust the measurement', fragmentChain(20_000), { maxBytes: 10_000_000, maxTokens: 1_000_000 }, 'TOO_DEEP'],
  ])('refuses %s as BAD_USER_INPUT with its reason, under HTTP 400', (_name, source, within, reason) => {
    const error = refusalOf(source, within);
    expect(error.code).toBe('BAD_USER_INPUT');
    expect(error.details).toMatchObject({ reason, field: null, http: { status: 400 } });
  });

  it('leaves syntax errors to the parser, with their place', () => {
    let thrown: unknown;
    try {
      parseWithinLimits('{ serverTime', limits);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(GraphQLError);
    expect(thrown).not.toBeInstanceOf(AppError);
    expect((thrown as GraphQLError).locations).toEqual([{ line: 1, column: 13 }]);
  });
});
