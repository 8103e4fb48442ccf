import type { ServiceDeps } from '../deps.js';
import { unauthenticated } from '../../domain/errors.js';
import { DUMMY_HASH } from './passwords.js';
import { startSession, type Session } from './sessions.js';

/** Signs a user in; a wrong password and an unknown email get the same answer. */
export async function signIn(
  deps: Pick<ServiceDeps, 'db' | 'tokens' | 'signInLimiter' | 'passwords'>,
  input: { email: string; password: string; clientIp: string },
): Promise<Session> {
  const email = input.email.trim().toLowerCase();
  await deps.signInLimiter.admit(email, input.clientIp);
  const user = await deps.db.user.findUnique({ where: { email } });
  const valid = await deps.passwords.verify(input.password, user?.passwordHash ?? DUMMY_HASH);
  if (!user || !valid) throw unauthenticated('Wrong email or password.');
  await deps.signInLimiter.succeeded(email);
  return startSession(deps, user);
}
