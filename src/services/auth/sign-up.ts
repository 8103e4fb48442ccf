import type { ServiceDeps } from '../deps.js';
import { badInput } from '../../domain/errors.js';
import * as v from '../validate.js';
import { hashPassword } from './passwords.js';
import { viewUser, type UserView } from '../users/view-user.js';
import { Prisma } from '../../generated/prisma/client.js';

export interface SignUpCommand {
  email: string;
  password: string;
  displayName: string;
  phone?: string | null;
  smsOptIn?: boolean | null;
}

/** Registers a user and signs them in. */
export async function signUp(deps: ServiceDeps, input: SignUpCommand): Promise<{ token: string; user: UserView }> {
  const email = v.email(input.email);
  const password = v.password(input.password);
  const displayName = v.text('displayName', input.displayName, { max: 50 });
  const phone = input.phone == null ? null : v.phone(input.phone);
  const smsOptIn = input.smsOptIn ?? false;
  if (smsOptIn && !phone) throw badInput('smsOptIn', 'smsOptIn needs a phone number.');

  const passwordHash = await hashPassword(password);
  try {
    const user = await deps.db.user.create({ data: { email, passwordHash, displayName, phone, smsOptIn } });
    return { token: await deps.tokens.issue(user.id), user: viewUser(user, { id: user.id }) };
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
      throw badInput('email', 'An account with this email already exists.');
    }
    throw error;
  }
}
