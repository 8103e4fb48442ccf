import type { ServiceDeps } from '../deps.js';

// Ids are Postgres UUIDs: anything else names no user, and would make the query itself fail.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether a user with this id exists, read from Postgres. */
export async function userExists(deps: Pick<ServiceDeps, 'db'>, id: string): Promise<boolean> {
  if (!UUID.test(id)) return false;
  return (await deps.db.user.findUnique({ where: { id }, select: { id: true } })) !== null;
}
