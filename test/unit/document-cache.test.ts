import { buildSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { documentCache } from '../../src/http/document-cache.js';

const schema = buildSchema('type Query { a: Int, b: Int }');

describe('the document cache', () => {
  it('hands every subscriber of the same text the same validated document', () => {
    const documents = documentCache(schema);
    const first = documents.validated('{ a }');
    expect('kind' in first).toBe(true);
    expect(documents.validated('{ a }')).toBe(first);
    expect(documents.validated('{ b }')).not.toBe(first);
  });

  it('answers invalid documents with their errors, syntax errors with their place', () => {
    const documents = documentCache(schema);
    const unknown = documents.validated('{ c }');
    const broken = documents.validated('{ a');
    expect(Array.isArray(unknown) && unknown[0]?.message).toMatch(/Cannot query field "c"/);
    expect(Array.isArray(broken) && broken[0]?.locations).toEqual([{ line: 1, column: 4 }]);
  });

  it('keeps the most recently used documents within its capacity', () => {
    const documents = documentCache(schema, 2);
    const a = documents.validated('{ a }');
    const b = documents.validated('{ b }');
    documents.validated('{ a }');
    documents.validated('{ a b }');
    expect(documents.validated('{ a }')).toBe(a);
    expect(documents.validated('{ b }')).not.toBe(b);
  });
});
