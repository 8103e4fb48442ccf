import type { ResultOf, TypedDocumentNode, VariablesOf } from '@graphql-typed-document-node/core';
import { print } from 'graphql';

export interface GraphQLErrorBody {
  message: string;
  path?: Array<string | number>;
  extensions?: { code?: string; field?: string | null; [key: string]: unknown };
}

export interface GraphQLResult<T> {
  status: number;
  data?: T | null;
  errors?: GraphQLErrorBody[];
}

/** Sends one typed operation over HTTP, as a browser would (JSON, optional bearer token). */
export async function request<D extends TypedDocumentNode<any, any>>(
  url: string,
  document: D,
  variables?: VariablesOf<D>,
  token?: string,
): Promise<GraphQLResult<ResultOf<D>>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query: print(document), variables }),
  });
  const body = (await response.json()) as Omit<GraphQLResult<ResultOf<D>>, 'status'>;
  return { status: response.status, ...body };
}

/** The data of an operation that must succeed; fails with the errors otherwise. */
export async function ok<D extends TypedDocumentNode<any, any>>(url: string, document: D, variables?: VariablesOf<D>, token?: string): Promise<ResultOf<D>> {
  const result = await request(url, document, variables, token);
  if (result.errors?.length || !result.data) throw new Error(`operation failed: ${JSON.stringify(result.errors)}`);
  return result.data;
}

/** The single error of an operation that must fail. */
export async function fails<D extends TypedDocumentNode<any, any>>(url: string, document: D, variables?: VariablesOf<D>, token?: string): Promise<GraphQLErrorBody> {
  const result = await request(url, document, variables, token);
  const [error] = result.errors ?? [];
  if (!error) throw new Error(`operation unexpectedly succeeded: ${JSON.stringify(result.data)}`);
  return error;
}

/** Sends a raw document, for inputs the typed documents cannot express. */
export async function raw(url: string, query: string, variables?: Record<string, unknown>, token?: string): Promise<GraphQLResult<any>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, ...((await response.json()) as object) };
}
