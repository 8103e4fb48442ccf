import type { ServiceDeps } from '../deps.js';

// Ids are Postgres UUIDs: anything else names no user, and would make the query itself fail.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The display name of the user with this id, read from Postgres; null when there is no such user. */
export async function userDisplayName(deps: Pick<ServiceDeps, 'db'>, id: string): Promise<string | null> {
  if (!UUID.test(id)) return null;
  return (await deps.db.user.findUnique({ where: { id }, select: { displayName: true } }))?.displayName ?? null;
}
