import { buildSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { documentCache } from '../../src/http/document-cache.js';
import type { DocumentLimits } from '../../src/http/document-limits.js';

const schema = buildSchema('type Query { a: Int, b: Int }');
const limits: DocumentLimits = { maxBytes: 32_768, maxTokens: 3_000, maxAliases: 50, maxDirectives: 50, maxExpandedFields: 2_000, maxRepeatedFields: 50 };
const cacheOf = (options: { capacity?: number; introspection?: boolean } = {}) => documentCache(schema, { limits, introspection: true, ...options });

describe('the document cache', () => {
  it('hands every subscriber of the same text the same validated document', () => {
    const documents = cacheOf();
    const first = documents.validated('{ a }');
    expect('kind' in first).toBe(true);
    expect(documents.validated('{ a }')).toBe(first);
    expect(documents.validated('{ b }')).not.toBe(first);
  });

  it('answers invalid documents with their errors, syntax errors with their place', () => {
    const documents = cacheOf();
    const unknown = documents.validated('{ c }');
    const broken = documents.validated('{ a');
    expect(Array.isArray(unknown) && unknown[0]?.message).toMatch(/Cannot query field "c"/);
    expect(Array.isArray(broken) && broken[0]?.locations).toEqual([{ line: 1, column: 4 }]);
  });

  it('keeps the most recently used documents within its capacity', () => {
    const documents = cacheOf({ capacity: 2 });
    const a = documents.validated('{ a }');
    const b = documents.validated('{ b }');
    documents.validated('{ a }');
    documents.validated('{ a b }');
    expect(documents.validated('{ a }')).toBe(a);
    expect(documents.validated('{ b }')).not.toBe(b);
  });

  it('refuses a document past the limits with its reason, as HTTP does', () => {
    const documents = cacheOf();
    const lines = ['query { ...F0 }', ...Array.from({ length: 30 }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`), 'fragment F30 on Query { a }'];
    const [error] = documents.validated(lines.join('\n')) as readonly Error[];
    expect(error).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', reason: 'TOO_MANY_FIELDS' } });
  });

  it('refuses __schema and __type with introspection off, and still answers __typename', () => {
    const documents = cacheOf({ introspection: false });
    for (const query of ['{ __schema { queryType { name } } }', '{ __type(name: "Query") { name } }']) {
      const errors = documents.validated(query);
      expect(Array.isArray(errors) && errors[0]?.message, query).toMatch(/introspection has been disabled/);
    }
    expect('kind' in documents.validated('{ __typename a }')).toBe(true);
    expect('kind' in cacheOf({ introspection: true }).validated('{ __schema { queryType { name } } }')).toBe(true);
  });
});
