/** The services a variable can point at; each has an in-process stand-in when its variable is unset. */
export type ExternalService = 'Postgres' | 'Redis' | 'Kafka';

/**
 * A configured service could not be reached at start-up. The message names the service, where it
 * was looked for and the variable that says so, which is what a person needs to act on it.
 */
export class ServiceUnreachableError extends Error {
  constructor(service: ExternalService, variable: string, target: string, cause: unknown) {
    const reason = rootReason(cause);
    super(
      `${service} at ${redactPassword(target)} (${variable}) is unreachable: ${reason}. ` +
        `Start it, point ${variable} at a running one, or unset ${variable} to use the embedded stand-in.`,
      { cause },
    );
    this.name = 'ServiceUnreachableError';
  }
}

/** Runs `connect`, turning its failure into a ServiceUnreachableError for `service` at `target`. */
export async function reaching<T>(service: ExternalService, variable: string, target: string, connect: () => Promise<T>): Promise<T> {
  try {
    return await connect();
  } catch (error) {
    throw new ServiceUnreachableError(service, variable, target, error);
  }
}

// The innermost cause says what went wrong on the wire; clients wrap it in paragraphs of their own.
function rootReason(error: unknown): string {
  let current = error;
  while (current instanceof Error && current.cause !== undefined) current = current.cause;
  const message = current instanceof Error ? current.message : String(current);
  const lines = message.split('\n').map((line) => line.trim()).filter(Boolean);
  const last = lines.at(-1) ?? 'no reason given';
  // Prisma quotes the driver's words inside its own: "Raw query failed. Code: `N/A`. Message: `...`".
  return (/Message: `([^`]+)`/.exec(last)?.[1] ?? last).replace(/\.$/, '');
}

/** `target` with any password in it replaced, so the message can be logged and printed. */
export function redactPassword(target: string): string {
  try {
    const url = new URL(target);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return target;
  }
}
