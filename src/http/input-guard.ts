import type { ApolloServerPlugin } from '@apollo/server';
import {
  coerceInputValue,
  isInputObjectType,
  isInputType,
  isListType,
  isNonNullType,
  isScalarType,
  Kind,
  TypeInfo,
  typeFromAST,
  valueFromAST,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type GraphQLError,
  type GraphQLInputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { AppError, ErrorCode } from '../domain/errors.js';
import { isStorableText } from '../domain/text.js';
import { toGraphQLError } from './errors.js';

/**
 * The longest string any argument or input field takes unless it declares its own
 * `extensions: { maxLength }`. Services check the exact limits of their fields; this bound only makes
 * sure no string reaches them, or a log line, unbounded.
 */
export const DEFAULT_MAX_STRING_LENGTH = 1_000;

// Messages quote the client's value; a 256 kB value is not worth sending back.
const MAX_MESSAGE_LENGTH = 300;

// Already a GraphQLError: checkInputs hands its refusals straight to Apollo and graphql-ws.
const refusal = (field: string, message: string): GraphQLError =>
  toGraphQLError(
    new AppError(ErrorCode.BAD_USER_INPUT, message.length > MAX_MESSAGE_LENGTH ? `${message.slice(0, MAX_MESSAGE_LENGTH - 3)}...` : message, {
      field,
      // Refused before execution: a request error, 400 under either media type (see the README).
      http: { status: 400 },
    }),
  );

const printPath = (root: string, path: ReadonlyArray<string | number>) =>
  path.reduce<string>((printed, key) => (typeof key === 'number' ? `${printed}[${key}]` : `${printed}.${key}`), root);

// graphql-js reports an unknown or missing input field at the object holding it, and names it only in the message.
const NAMED_IN_MESSAGE = /^Field "(\w+)" (?:is not defined by type|of required type)/;

/** The field a coercion error is about: the innermost input field, or the variable itself. */
function fieldOf(variable: string, path: ReadonlyArray<string | number>, error: GraphQLError): string {
  const named = NAMED_IN_MESSAGE.exec(error.message)?.[1];
  if (named) return named;
  const key = [...path].reverse().find((segment): segment is string => typeof segment === 'string');
  return key ?? variable;
}

/**
 * Coerces the operation's variables as graphql-js will, but stops at the first refusal with
 * BAD_USER_INPUT naming the variable or its input field, instead of an error without a code.
 */
export function coerceVariables(schema: GraphQLSchema, operation: OperationDefinitionNode, inputs: Record<string, unknown>): Record<string, unknown> {
  const coerced: Record<string, unknown> = {};
  for (const definition of operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    const type = typeFromAST(schema, definition.type);
    // Validation has already refused a variable of an unknown or output type.
    if (!type || !isInputType(type)) continue;
    if (!Object.hasOwn(inputs, name)) {
      if (definition.defaultValue) coerced[name] = valueFromAST(definition.defaultValue, type);
      else if (isNonNullType(type)) throw refusal(name, `Variable "$${name}" of required type "${String(type)}" was not provided.`);
      continue;
    }
    const value = inputs[name];
    if (value === null && isNonNullType(type)) throw refusal(name, `Variable "$${name}" of non-null type "${String(type)}" must not be null.`);
    coerced[name] = coerceInputValue(value, type, (path, _invalid, error) => {
      const at = path.length > 0 ? ` at "${printPath(name, path)}"` : '';
      throw refusal(fieldOf(name, path, error), `Variable "$${name}" got an invalid value${at}: ${error.message}`);
    });
  }
  return coerced;
}

const maxLengthOf = (definition: { extensions?: Readonly<Record<string, unknown>> | null }): number => {
  const declared = definition.extensions?.maxLength;
  return typeof declared === 'number' ? declared : DEFAULT_MAX_STRING_LENGTH;
};

/** Refuses a string Postgres could not store as given, or one past its field's length. */
function checkStrings(value: unknown, type: GraphQLInputType, field: string, maxLength: number): void {
  if (value === null || value === undefined) return;
  if (isNonNullType(type)) {
    checkStrings(value, type.ofType, field, maxLength);
  } else if (isListType(type)) {
    for (const item of value as unknown[]) checkStrings(item, type.ofType, field, maxLength);
  } else if (isInputObjectType(type)) {
    for (const inner of Object.values(type.getFields())) {
      checkStrings((value as Record<string, unknown>)[inner.name], inner.type, inner.name, maxLengthOf(inner));
    }
  } else if (isScalarType(type) && typeof value === 'string') {
    if (!isStorableText(value)) throw refusal(field, `${field} must not contain a NUL character or an unpaired surrogate.`);
    if (value.length > maxLength) throw refusal(field, `${field} must have at most ${maxLength} characters.`);
  }
}

/**
 * Checks every value the operation passes to an argument, written in the document or sent as a
 * variable: variables must coerce, and no string may hold NUL or an unpaired surrogate or run past
 * its field's maximum length. Each refusal is BAD_USER_INPUT naming the field, before execution.
 */
export function checkInputs(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, inputs: Record<string, unknown>): void {
  const variables = coerceVariables(schema, operation, inputs);
  const typeInfo = new TypeInfo(schema);
  const visitor = visitWithTypeInfo(typeInfo, {
    Argument(node) {
      const argument = typeInfo.getArgument();
      if (argument) checkStrings(valueFromAST(node.value, argument.type, variables), argument.type, argument.name, maxLengthOf(argument));
      return false;
    },
  });
  visit(operation, visitor);
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) visit(definition, visitor);
  }
}

/**
 * Runs checkInputs once the operation is known. It must come before any plugin that reads the
 * variables in the same hook (query-limits.ts coerces them to estimate the cost): Apollo runs the
 * hooks together and answers with the first refusal, and an error without a code would be a 500.
 */
export function inputGuardPlugin(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, operation, schema }) {
          if (operation) checkInputs(schema, document, operation, request.variables ?? {});
        },
      };
    },
  };
}
