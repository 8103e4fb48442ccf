import { readFileSync } from 'node:fs';

// What counts as a wrong answer to a fuzz case. A client's mistake must come back as a GraphQL error
// carrying one of the contract's codes: never a 5xx, never an answer that is not GraphQL, never the
// server's own INTERNAL_SERVER_ERROR.

/** The codes the public contract lists ("Errors are GraphQL errors whose extensions.code is one of:"). */
export function contractErrorCodes(contractFile = new URL('../../../../shared/api/auction.graphql', import.meta.url)): Set<string> {
  const text = readFileSync(contractFile, 'utf8');
  const block = /^# Errors are GraphQL errors whose extensions\.code is one of:\n((?:#.*\n)+)/m.exec(text)?.[1] ?? '';
  const codes = [...block.matchAll(/^#\s+([A-Z][A-Z_]+)\s/gm)].map((match) => match[1]!);
  if (codes.length === 0) throw new Error(`no error codes found in ${contractFile}`);
  return new Set(codes);
}

export interface GraphQLAnswer {
  data?: unknown;
  errors?: Array<{ message?: unknown; path?: unknown; extensions?: { code?: unknown } }>;
}

/** The codes of an answer's errors, or OK for one without errors: what the fuzz run reports it saw. */
export function outcomeCodes(answer: GraphQLAnswer | undefined): string[] {
  if (!answer) return ['(no GraphQL answer)'];
  if (!Array.isArray(answer.errors) || answer.errors.length === 0) return ['OK'];
  return [...new Set(answer.errors.map((error) => String(error?.extensions?.code)))];
}

/** Why an answer is wrong, one line per reason; none when it is right. */
export function judgeErrors(errors: GraphQLAnswer['errors'], codes: ReadonlySet<string>): string[] {
  if (errors === undefined) return [];
  if (!Array.isArray(errors)) return ['errors is not a list'];
  return errors.flatMap((error) => {
    const code = error?.extensions?.code;
    if (code === 'INTERNAL_SERVER_ERROR') return [`INTERNAL_SERVER_ERROR for a client’s input, at ${Array.isArray(error.path) ? error.path.join('.') : 'no path'}`];
    if (typeof code !== 'string' || !codes.has(code)) return [`an error whose code ${JSON.stringify(code)} is not in the contract`];
    return [];
  });
}

/** Judges an HTTP answer: its status and body. */
export function judgeHttp(status: number, body: string, codes: ReadonlySet<string>): { verdicts: string[]; answer?: GraphQLAnswer } {
  const verdicts = status >= 500 ? [`HTTP ${status}`] : [];
  let answer: GraphQLAnswer;
  try {
    answer = JSON.parse(body) as GraphQLAnswer;
  } catch {
    return { verdicts: [...verdicts, `HTTP ${status} with a body that is not JSON`] };
  }
  if (typeof answer !== 'object' || answer === null || (!('data' in answer) && !('errors' in answer))) {
    return { verdicts: [...verdicts, `HTTP ${status} with JSON that is not a GraphQL answer`] };
  }
  return { verdicts: [...verdicts, ...judgeErrors(answer.errors, codes)], answer };
}

/**
 * Whether the answer refused the whole operation: errors, no root field with a value, and none below
 * a root field. An error deeper down means the root field's resolver ran and answered (a bid can be
 * accepted and a field of its answer then fail): that is not a refusal.
 */
export function refused(answer: GraphQLAnswer | undefined): boolean {
  if (!Array.isArray(answer?.errors) || answer.errors.length === 0) return false;
  const data = answer.data as Record<string, unknown> | null | undefined;
  const atRoot = answer.errors.every((error) => !Array.isArray(error?.path) || error.path.length <= 1);
  return atRoot && (data == null || Object.values(data).every((value) => value === null));
}
