import type { ApolloServerPlugin } from '@apollo/server';
import { getOperationAST, Kind, type DocumentNode, type FragmentDefinitionNode, type GraphQLSchema, type SelectionSetNode } from 'graphql';
// The CommonJS build shares graphql's CommonJS entry with everything else; its ESM build imports graphql's .mjs files.
import { fieldExtensionsEstimator, getComplexity, simpleEstimator } from 'graphql-query-complexity/cjs';
import { AppError, ErrorCode } from '../domain/errors.js';
import { toGraphQLError } from './errors.js';

/** The deepest field nesting of a document, following fragments. */
export function queryDepth(document: DocumentNode): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const depthOf = (selectionSet: SelectionSetNode | undefined, visiting: Set<string>): number => {
    if (!selectionSet) return 0;
    let deepest = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        deepest = Math.max(deepest, selection.name.value.startsWith('__') ? 0 : 1 + depthOf(selection.selectionSet, visiting));
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        deepest = Math.max(deepest, depthOf(selection.selectionSet, visiting));
      } else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (fragment && !visiting.has(name)) deepest = Math.max(deepest, depthOf(fragment.selectionSet, new Set(visiting).add(name)));
      }
    }
    return deepest;
  };
  let deepest = 0;
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION) deepest = Math.max(deepest, depthOf(definition.selectionSet, new Set()));
  }
  return deepest;
}

/** Refuses, before execution, a document nested deeper or costing more than the limits. */
export function checkQueryLimits(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown>,
  operationName: string | undefined,
  limits: { maxDepth: number; maxComplexity: number },
): void {
  // Apollo and graphql-ws ask before they notice a missing operation, and the complexity analysis
  // crashes on a name that matches none (GraphiQL can send a stale one): the client's mistake.
  if (!getOperationAST(document, operationName)) {
    const message = operationName !== undefined ? `The document has no operation named "${operationName}".` : 'The document has several operations: name the one to run.';
    throw new AppError(ErrorCode.BAD_USER_INPUT, message, { field: null, http: { status: 400 } });
  }
  const depth = queryDepth(document);
  if (depth > limits.maxDepth) {
    throw new AppError(ErrorCode.BAD_USER_INPUT, `The query is nested ${depth} levels deep; the limit is ${limits.maxDepth}.`, { field: null, http: { status: 400 } });
  }
  const complexity = getComplexity({
    schema,
    query: document,
    variables,
    operationName,
    estimators: [fieldExtensionsEstimator(), simpleEstimator({ defaultComplexity: 1 })],
    // The document limits (MAX_QUERY_EXPANDED_FIELDS) have bounded the walk before this runs; the
    // library's own stop, at 10,000 nodes, throws an error without a code, which answers 500.
    maxQueryNodes: Number.POSITIVE_INFINITY,
  });
  if (complexity > limits.maxComplexity) {
    throw new AppError(ErrorCode.BAD_USER_INPUT, `The query costs ${complexity}; the limit is ${limits.maxComplexity}.`, { field: null, http: { status: 400 } });
  }
}

export function queryLimitsPlugin(limits: { maxDepth: number; maxComplexity: number }): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, schema }) {
          try {
            checkQueryLimits(schema, document, request.variables ?? {}, request.operationName ?? undefined, limits);
          } catch (error) {
            // Apollo takes the status from a GraphQLError's extensions; anything else would be a 500.
            throw error instanceof AppError ? toGraphQLError(error) : error;
          }
        },
      };
    },
  };
}
