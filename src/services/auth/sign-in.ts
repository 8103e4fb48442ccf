import type { ServiceDeps } from '../deps.js';
import { unauthenticated } from '../../domain/errors.js';
import { DUMMY_HASH, verifyPassword } from './passwords.js';
import { viewUser, type UserView } from '../users/view-user.js';

/** Signs a user in; a wrong password and an unknown email get the same answer. */
export async function signIn(
  deps: ServiceDeps,
  input: { email: string; password: string; clientIp: string },
): Promise<{ token: string; user: UserView }> {
  const email = input.email.trim().toLowerCase();
  await deps.signInLimiter.admit(email, input.clientIp);
  const user = await deps.db.user.findUnique({ where: { email } });
  const valid = await verifyPassword(input.password, user?.passwordHash ?? DUMMY_HASH);
  if (!user || !valid) {
    await deps.signInLimiter.recordFailure(email);
    throw unauthenticated('Wrong email or password.');
  }
  await deps.signInLimiter.recordSuccess(email);
  return { token: await deps.tokens.issue(user.id), user: viewUser(user, { id: user.id }) };
}
