import { NoSchemaIntrospectionCustomRule, specifiedRules, validate, type DocumentNode, type GraphQLError, type GraphQLSchema } from 'graphql';
import { AppError } from '../domain/errors.js';
import { parseWithinLimits, type DocumentLimits } from './document-limits.js';
import { toGraphQLError } from './errors.js';

const CACHED_DOCUMENTS = 500;

export interface DocumentCacheOptions {
  /** Checked before a document is parsed in full or validated; see document-limits.ts. */
  limits: DocumentLimits;
  /** Whether documents may ask for __schema and __type. */
  introspection: boolean;
  capacity?: number;
}

/**
 * Parsed and validated documents by their text. Thousands of clients subscribe with the same few
 * documents; each would otherwise keep its own parse tree for as long as it stays subscribed.
 */
export function documentCache(schema: GraphQLSchema, options: DocumentCacheOptions) {
  const { limits, capacity = CACHED_DOCUMENTS } = options;
  const rules = options.introspection ? specifiedRules : [...specifiedRules, NoSchemaIntrospectionCustomRule];
  const documents = new Map<string, DocumentNode>();
  return {
    /** The document, or why it cannot run. Only valid documents are kept. */
    validated(query: string): DocumentNode | readonly GraphQLError[] {
      const cached = documents.get(query);
      if (cached) {
        documents.delete(query);
        documents.set(query, cached);
        return cached;
      }
      let document: DocumentNode;
      try {
        // Syntax errors still carry their line and column; only the tree drops its locations.
        document = parseWithinLimits(query, limits);
      } catch (error) {
        return [error instanceof AppError ? toGraphQLError(error) : (error as GraphQLError)];
      }
      const errors = validate(schema, document, rules);
      if (errors.length > 0) return errors;
      documents.set(query, document);
      if (documents.size > capacity) documents.delete(documents.keys().next().value!);
      return document;
    },
  };
}
