import { createHash, randomBytes } from 'node:crypto';
import { jwtVerify, SignJWT, errors as joseErrors } from 'jose';
import { unauthenticated } from '../../domain/errors.js';
import type { Clock } from '../../ports/clock.js';
import type { KnownUsers } from './known-users.js';
import type { Viewer } from '../../domain/viewer.js';

const ISSUER = 'auction-platform';

export interface TokenServiceOptions {
  /** HS256 signing secret. */
  secret: string;
  /** Lifetime of an access token. */
  accessTtlSeconds: number;
  /** Lifetime of a refresh token, from its issue. */
  refreshTtlSeconds: number;
  /** The clock credentials are issued and judged by. */
  clock: Clock;
  users: KnownUsers;
}

export interface AccessToken {
  token: string;
  expiresAt: Date;
}

export interface NewRefreshToken {
  /** What the client gets, once. */
  token: string;
  /** What the database keeps. */
  hash: string;
  expiresAt: Date;
}

/** The most verified tokens kept; past it the oldest is checked again on its next use. */
const VERIFIED_TOKENS_MAX = 10_000;

/** Issues and checks the credentials of signed-in users: short-lived JWT access tokens, opaque refresh tokens. */
export class TokenService {
  private readonly key: Uint8Array;
  /**
   * Tokens whose signature and claims were checked, by their exact text: a client sends the same
   * token with every request until it expires, and its HMAC need not be computed each time. Only
   * the expiry still moves, so a hit is judged against it.
   */
  private readonly verified = new Map<string, { sub: string; exp: number }>();

  constructor(private readonly options: TokenServiceOptions) {
    this.key = new TextEncoder().encode(options.secret);
  }

  /** Now, by the clock that issues credentials: what a refresh token's expiry is compared with. */
  now(): Date {
    return this.options.clock.now();
  }

  /** A signed access token naming the user, expiring after the access TTL. */
  async issue(userId: string, displayName: string): Promise<AccessToken> {
    const issuedAt = Math.floor(this.options.clock.now().getTime() / 1000);
    const expiresAt = issuedAt + this.options.accessTtlSeconds;
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(userId)
      .setIssuer(ISSUER)
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAt)
      .sign(this.key);
    // Only issued right after the user was read or created: the next operation need not ask again.
    this.options.users.remember(userId, displayName);
    return { token, expiresAt: new Date(expiresAt * 1000) };
  }

  /** The user id a token names; UNAUTHENTICATED when it is forged, malformed, expired or has no expiry. */
  async verify(token: string): Promise<string> {
    const now = this.options.clock.now();
    const known = this.verified.get(token);
    if (known) {
      // As jose judges it: expired once the current second reaches exp.
      if (known.exp > Math.floor(now.getTime() / 1000)) return known.sub;
      this.verified.delete(token);
      throw unauthenticated('The token is invalid or expired.');
    }
    try {
      const { payload } = await jwtVerify(token, this.key, {
        issuer: ISSUER,
        algorithms: ['HS256'],
        // A token without exp would be valid forever: refused, whoever signed it.
        requiredClaims: ['exp', 'sub'],
        currentDate: now,
      });
      if (this.verified.size >= VERIFIED_TOKENS_MAX) this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(token, { sub: payload.sub!, exp: payload.exp! });
      return payload.sub!;
    } catch (error) {
      if (error instanceof joseErrors.JOSEError) throw unauthenticated('The token is invalid or expired.');
      throw error;
    }
  }

  /** Reads `Bearer <token>` (or a bare token); null when absent, UNAUTHENTICATED when invalid or its user is gone. */
  async viewerFromAuthorization(header: unknown): Promise<Viewer> {
    if (typeof header !== 'string' || header.trim() === '') return null;
    const id = await this.verify(header.replace(/^Bearer\s+/i, '').trim());
    // A valid signature proves the server issued the token, not that its user is still there.
    const user = await this.options.users.find(id);
    if (!user) throw unauthenticated('The token names a user that does not exist.');
    return { id, displayName: user.displayName };
  }

  /** A new random refresh token with its hash and expiry. */
  newRefreshToken(): NewRefreshToken {
    const token = randomBytes(32).toString('base64url');
    return {
      token,
      hash: this.hashRefreshToken(token),
      expiresAt: new Date(this.options.clock.now().getTime() + this.options.refreshTtlSeconds * 1000),
    };
  }

  /** How a presented refresh token is looked up. A fast hash suffices: the token has 256 random bits. */
  hashRefreshToken(token: string): string {
    return createHash('sha256').update(token).digest('base64url');
  }
}
