import type { ServiceDeps } from '../deps.js';
import type { Viewer } from '../../domain/viewer.js';
import { viewUser, type UserView } from './view-user.js';

/** A user as `viewer` may see them; Prisma batches these look-ups within one tick. */
export async function getUser(deps: Pick<ServiceDeps, 'db'>, viewer: Viewer, id: string | null): Promise<UserView | null> {
  if (!id) return null;
  const user = await deps.db.user.findUnique({ where: { id } });
  return user ? viewUser(user, viewer) : null;
}
