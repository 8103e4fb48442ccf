import type { RequestHandler } from 'express';
import { Kind, parse, visit, type DocumentNode, type FragmentDefinitionNode, type GraphQLFormattedError, type SelectionSetNode } from 'graphql';
import { AppError, ErrorCode } from '../domain/errors.js';
import { toGraphQLError } from './errors.js';
import type { Config } from '../config/config.js';

/**
 * What a document may hold before anything parses it in full, validates it or expands its
 * fragments. Validation (OverlappingFieldsCanBeMerged above all) and the depth and cost checks
 * all walk the document with its fragments expanded in place, so a kilobyte of fragments that
 * spread each other twice is a billion fields to them: these limits are measured without that walk.
 */
export type DocumentLimits = Config['limits']['document'];

/** extensions.reason of a refused document, beside code BAD_USER_INPUT. */
export type DocumentRefusal =
  | 'DOCUMENT_TOO_LARGE'
  | 'TOO_MANY_TOKENS'
  | 'TOO_DEEP'
  | 'TOO_MANY_ALIASES'
  | 'TOO_MANY_DIRECTIVES'
  | 'TOO_MANY_FIELDS'
  | 'TOO_MANY_REPEATED_FIELDS';

export interface DocumentMeasure {
  aliases: number;
  directives: number;
  /**
   * Selections of every operation and every fragment definition, each fragment spread counted as
   * itself plus what its fragment expands to. Fragment definitions count on their own as well:
   * validation walks an unused fragment as it walks an operation.
   */
  expandedFields: number;
  /** Selection nodes looked at to compute expandedFields: each once, however often it is spread. */
  visited: number;
}

const refusal = (reason: DocumentRefusal, message: string) =>
  new AppError(ErrorCode.BAD_USER_INPUT, message, { field: null, reason, http: { status: 400 } });

const fragmentsOf = (document: DocumentNode): Map<string, FragmentDefinitionNode> => {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  return fragments;
};

/** Counts what a parsed document holds and what it expands to, in time linear in its size. */
export function measureDocument(document: DocumentNode): DocumentMeasure {
  let aliases = 0;
  let directives = 0;
  visit(document, {
    Field(node) {
      if (node.alias) aliases++;
    },
    Directive() {
      directives++;
    },
  });

  const fragments = fragmentsOf(document);
  // Each fragment's expanded size is computed once and reused at every spread: that is what keeps
  // the count linear while the number it arrives at grows exponentially.
  const expandedFragments = new Map<string, number>();
  const expanding = new Set<string>();
  let visited = 0;

  const sizeOf = (selectionSet: SelectionSetNode): number => {
    let size = 0;
    for (const selection of selectionSet.selections) {
      visited++;
      size += 1;
      if (selection.kind === Kind.FRAGMENT_SPREAD) size += fragmentSize(selection.name.value);
      else if (selection.selectionSet) size += sizeOf(selection.selectionSet);
    }
    return size;
  };
  const fragmentSize = (name: string): number => {
    const known = expandedFragments.get(name);
    if (known !== undefined) return known;
    const fragment = fragments.get(name);
    // An unknown fragment or a cycle is refused by validation; here the spread just adds nothing.
    if (!fragment || expanding.has(name)) return 0;
    expanding.add(name);
    const size = sizeOf(fragment.selectionSet);
    expanding.delete(name);
    expandedFragments.set(name, size);
    return size;
  };

  let expandedFields = 0;
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION) expandedFields += sizeOf(definition.selectionSet);
    else if (definition.kind === Kind.FRAGMENT_DEFINITION) expandedFields += fragmentSize(definition.name.value);
  }
  return { aliases, directives, expandedFields, visited };
}

/** Response keys under one path, each leading to the keys under it. */
type ResponsePaths = Map<string, ResponsePaths>;

/**
 * The fields of a document that repeat a response path (`auction.seller.id`, aliases counted as
 * their alias) already selected in the same operation or fragment definition, whichever fragment
 * or type condition they come from. It walks the expanded document: call it only on one whose
 * expanded size measureDocument has found within bounds.
 */
export function repeatedFields(document: DocumentNode): number {
  const fragments = fragmentsOf(document);
  let repeated = 0;
  const walk = (selectionSet: SelectionSetNode, paths: ResponsePaths, expanding: Set<string>): void => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const key = selection.alias?.value ?? selection.name.value;
        let below = paths.get(key);
        if (below) repeated++;
        else paths.set(key, (below = new Map()));
        if (selection.selectionSet) walk(selection.selectionSet, below, expanding);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        walk(selection.selectionSet, paths, expanding);
      } else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (!fragment || expanding.has(name)) continue;
        expanding.add(name);
        walk(fragment.selectionSet, paths, expanding);
        expanding.delete(name);
      }
    }
  };
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION) walk(definition.selectionSet, new Map(), new Set());
    else if (definition.kind === Kind.FRAGMENT_DEFINITION) walk(definition.selectionSet, new Map(), new Set([definition.name.value]));
  }
  return repeated;
}

// The parser and the walks here recurse once per level of nesting or of fragments spreading
// fragments; only thousands of levels exhaust the stack, far past any limit of depth.
const tooDeep = () => refusal('TOO_DEEP', 'The document is nested too deeply to process.');
function withinStack<T>(walk: () => T): T {
  try {
    return walk();
  } catch (error) {
    throw error instanceof RangeError ? tooDeep() : error;
  }
}

// graphql-js 16 words it "more that" (sic).
const TOKEN_LIMIT_MESSAGE = /Document contains more (?:than|that) \d+ tokens/;

/**
 * The document, parsed, when it is within the limits; an AppError (BAD_USER_INPUT with a reason,
 * HTTP 400) when it is not. Syntax errors are thrown as the parser reports them.
 */
export function parseWithinLimits(source: string, limits: DocumentLimits): DocumentNode {
  const bytes = Buffer.byteLength(source, 'utf8');
  if (bytes > limits.maxBytes) {
    throw refusal('DOCUMENT_TOO_LARGE', `The document is ${bytes} bytes long; the limit is ${limits.maxBytes}.`);
  }
  let document: DocumentNode;
  try {
    document = parse(source, { maxTokens: limits.maxTokens, noLocation: true });
  } catch (error) {
    if (error instanceof Error && TOKEN_LIMIT_MESSAGE.test(error.message)) {
      throw refusal('TOO_MANY_TOKENS', `The document has more than ${limits.maxTokens} tokens, the limit.`);
    }
    throw error instanceof RangeError ? tooDeep() : error;
  }
  const measure = withinStack(() => measureDocument(document));
  if (measure.aliases > limits.maxAliases) {
    throw refusal('TOO_MANY_ALIASES', `The document has ${measure.aliases} aliases; the limit is ${limits.maxAliases}.`);
  }
  if (measure.directives > limits.maxDirectives) {
    throw refusal('TOO_MANY_DIRECTIVES', `The document has ${measure.directives} directives; the limit is ${limits.maxDirectives}.`);
  }
  if (measure.expandedFields > limits.maxExpandedFields) {
    throw refusal(
      'TOO_MANY_FIELDS',
      `The document expands to ${measure.expandedFields} fields once its fragments are spread; the limit is ${limits.maxExpandedFields}.`,
    );
  }
  const repeated = withinStack(() => repeatedFields(document));
  if (repeated > limits.maxRepeatedFields) {
    throw refusal('TOO_MANY_REPEATED_FIELDS', `The document selects ${repeated} fields again under a path it already selected; the limit is ${limits.maxRepeatedFields}.`);
  }
  return document;
}

/**
 * Refuses, over HTTP, a document past the limits before Apollo parses and validates it. Apollo has
 * no hook before validation that can answer a request: an error thrown from parsingDidStart or
 * validationDidStart becomes a 500. So this stands in front of Apollo's middleware, after the body
 * parser, and answers in the shape Apollo would. Requests without a query text (a persisted query
 * by its hash only, a batch) are Apollo's to answer; Apollo only ever stores texts that got past this.
 */
export function documentLimitsMiddleware(
  limits: DocumentLimits,
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError,
): RequestHandler {
  return (req, res, next) => {
    const query: unknown = req.method === 'GET' ? req.query.query : (req.body as { query?: unknown } | undefined)?.query;
    if (typeof query !== 'string') return next();
    try {
      parseWithinLimits(query, limits);
    } catch (error) {
      // A plain syntax error is Apollo's to report, with its usual code.
      if (!(error instanceof AppError)) return next();
      const refused = toGraphQLError(error);
      res.status(400).json({ errors: [formatError(refused.toJSON(), refused)] });
      return;
    }
    next();
  };
}
