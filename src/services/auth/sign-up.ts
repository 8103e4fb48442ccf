import type { ServiceDeps } from '../deps.js';
import { badInput } from '../../domain/errors.js';
import * as v from '../validate.js';
import { startSession, type Session } from './sessions.js';
import { Prisma } from '../../generated/prisma/client.js';

export interface SignUpCommand {
  email: string;
  password: string;
  displayName: string;
  phone?: string | null;
  smsOptIn?: boolean | null;
}

const emailTaken = () => badInput('email', 'An account with this email already exists.');

/** Registers a user and signs them in; each client address has a budget of sign-ups per window. */
export async function signUp(
  deps: Pick<ServiceDeps, 'db' | 'tokens' | 'signUpLimiter' | 'passwords'>,
  input: SignUpCommand & { clientIp: string },
): Promise<Session> {
  const email = v.email(input.email);
  const password = v.password(input.password);
  const displayName = v.text('displayName', input.displayName, { max: 50 });
  const phone = input.phone == null ? null : v.phone(input.phone);
  const smsOptIn = input.smsOptIn ?? false;
  if (smsOptIn && !phone) throw badInput('smsOptIn', 'smsOptIn needs a phone number.');

  // Counted before anything costly; a malformed request costs nothing and counts nothing.
  await deps.signUpLimiter.spend(input.clientIp);
  // Saves a hash on the common mistake; the unique index below still decides a race.
  if (await deps.db.user.findUnique({ where: { email }, select: { id: true } })) throw emailTaken();
  const passwordHash = await deps.passwords.hash(password);
  const user = await deps.db.user.create({ data: { email, passwordHash, displayName, phone, smsOptIn } }).catch((error: unknown) => {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') throw emailTaken();
    throw error;
  });
  return startSession(deps, user);
}
