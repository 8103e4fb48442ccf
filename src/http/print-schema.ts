import { lexicographicSortSchema, printSchema } from 'graphql';
import type { ServiceDeps } from '../services/deps.js';
import { buildGraphSchema } from './graphql-schema.js';

// Printing needs the schema's shape only: a resolver that touched a dependency here would be a bug.
const untouchable = new Proxy({} as ServiceDeps, {
  get: (_target, key) => {
    throw new Error(`printing the schema must not use ${String(key)}`);
  },
});

/** The SDL the server serves, sorted so that the committed file only changes with the schema. */
export async function printGraphSchema(): Promise<string> {
  return `${printSchema(lexicographicSortSchema(await buildGraphSchema(untouchable)))}\n`;
}
