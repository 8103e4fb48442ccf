import { randomUUID } from 'node:crypto';
import type { ServiceDeps } from '../deps.js';
import { unauthenticated } from '../../domain/errors.js';
import { viewUser, type UserRecord, type UserView } from '../users/view-user.js';

/** What signing in, signing up and refreshing answer (AuthPayload). */
export interface Session {
  token: string;
  tokenExpiresAt: Date;
  refreshToken: string;
  refreshTokenExpiresAt: Date;
  user: UserView;
}

// One answer for every refused refresh token: whether it was unknown, spent or revoked is no
// business of whoever holds it.
const REFUSED = 'The refresh token is invalid, expired or already used; sign in again.';

/** Starts a session for a user who just proved who they are: an access token and the first refresh token of a new family. */
export async function startSession(deps: Pick<ServiceDeps, 'db' | 'tokens'>, user: UserRecord): Promise<Session> {
  return continueSession(deps, user, randomUUID());
}

async function continueSession(deps: Pick<ServiceDeps, 'db' | 'tokens'>, user: UserRecord, familyId: string): Promise<Session> {
  const refresh = deps.tokens.newRefreshToken();
  await deps.db.refreshToken.create({ data: { userId: user.id, familyId, tokenHash: refresh.hash, expiresAt: refresh.expiresAt } });
  const access = await deps.tokens.issue(user.id, user.displayName);
  return {
    token: access.token,
    tokenExpiresAt: access.expiresAt,
    refreshToken: refresh.token,
    refreshTokenExpiresAt: refresh.expiresAt,
    user: viewUser(user, { id: user.id }),
  };
}

/**
 * Trades a refresh token for a new access token and a new refresh token; the presented one is
 * spent. A spent token presented again means two parties hold it, so its whole family is revoked.
 */
export async function refreshSession(deps: Pick<ServiceDeps, 'db' | 'tokens' | 'logger'>, presented: string): Promise<Session> {
  const now = deps.tokens.now();
  const row = await deps.db.refreshToken.findUnique({ where: { tokenHash: deps.tokens.hashRefreshToken(presented) } });
  if (!row || row.expiresAt <= now) throw unauthenticated(REFUSED);
  // Revocation holds for the whole family, including a token rotated out of it at the same time.
  if (await deps.db.refreshToken.findFirst({ where: { familyId: row.familyId, revokedAt: { not: null } }, select: { id: true } })) {
    throw unauthenticated(REFUSED);
  }
  // The conditional update is the claim: of two concurrent uses of one token exactly one wins.
  const claimed = row.usedAt
    ? 0
    : (await deps.db.refreshToken.updateMany({ where: { id: row.id, usedAt: null, revokedAt: null }, data: { usedAt: now } })).count;
  if (claimed === 0) {
    await revokeFamily(deps, row.familyId, now);
    deps.logger.warn({ userId: row.userId, familyId: row.familyId }, 'a used refresh token was presented again; revoked its family');
    throw unauthenticated(REFUSED);
  }
  const user = await deps.db.user.findUnique({ where: { id: row.userId } });
  if (!user) throw unauthenticated(REFUSED);
  return continueSession(deps, user, row.familyId);
}

/** Revokes the refresh token's family, so neither it nor any rotation of it works again; true whether or not it was known. */
export async function signOut(deps: Pick<ServiceDeps, 'db' | 'tokens'>, presented: string): Promise<boolean> {
  const row = await deps.db.refreshToken.findUnique({ where: { tokenHash: deps.tokens.hashRefreshToken(presented) } });
  if (row) await revokeFamily(deps, row.familyId, deps.tokens.now());
  return true;
}

async function revokeFamily(deps: Pick<ServiceDeps, 'db'>, familyId: string, now: Date): Promise<void> {
  await deps.db.refreshToken.updateMany({ where: { familyId, revokedAt: null }, data: { revokedAt: now } });
}
