import type { ServiceDeps } from '../deps.js';
import type { Viewer } from '../../domain/viewer.js';
import { badInput, unauthenticated } from '../../domain/errors.js';
import * as v from '../validate.js';
import { viewUser, type UserView } from './view-user.js';

/** The signed-in user, or null for an anonymous viewer. */
export async function me(deps: Pick<ServiceDeps, 'db'>, viewer: Viewer): Promise<UserView | null> {
  if (!viewer) return null;
  const user = await deps.db.user.findUnique({ where: { id: viewer.id } });
  return user ? viewUser(user, viewer) : null;
}

export interface UpdateMeCommand {
  displayName?: string | null;
  phone?: string | null;
  smsOptIn?: boolean | null;
}

/** Updates the signed-in user's profile; a null phone removes it (and SMS opt-in with it). */
export async function updateMe(deps: Pick<ServiceDeps, 'db' | 'users'>, viewer: Viewer, input: UpdateMeCommand): Promise<UserView> {
  if (!viewer) throw unauthenticated();
  const current = await deps.db.user.findUnique({ where: { id: viewer.id } });
  if (!current) throw unauthenticated('The signed-in user no longer exists.');
  if (input.displayName === null) throw badInput('displayName', 'displayName cannot be removed.');
  if (input.smsOptIn === null) throw badInput('smsOptIn', 'smsOptIn must be true or false.');

  const displayName = input.displayName === undefined ? current.displayName : v.text('displayName', input.displayName, { max: 50 });
  const phone = input.phone === undefined ? current.phone : input.phone === null ? null : v.phone(input.phone);
  const smsOptIn = input.smsOptIn ?? (phone ? current.smsOptIn : false);
  if (smsOptIn && !phone) throw badInput('smsOptIn', 'smsOptIn needs a phone number.');

  const user = await deps.db.user.update({ where: { id: viewer.id }, data: { displayName, phone, smsOptIn } });
  deps.users.remember(user.id, user.displayName);
  return viewUser(user, viewer);
}
