import { parse, validate, type DocumentNode, type GraphQLError, type GraphQLSchema } from 'graphql';

const CACHED_DOCUMENTS = 500;

/**
 * Parsed and validated documents by their text. Thousands of clients subscribe with the same few
 * documents; each would otherwise keep its own parse tree for as long as it stays subscribed.
 */
export function documentCache(schema: GraphQLSchema, capacity = CACHED_DOCUMENTS) {
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
        document = parse(query, { noLocation: true });
      } catch (error) {
        return [error as GraphQLError];
      }
      const errors = validate(schema, document);
      if (errors.length > 0) return errors;
      documents.set(query, document);
      if (documents.size > capacity) documents.delete(documents.keys().next().value!);
      return document;
    },
  };
}
