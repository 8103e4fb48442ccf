import { jwtVerify, SignJWT, errors as joseErrors } from 'jose';
import { unauthenticated } from '../../domain/errors.js';

const ISSUER = 'auction-platform';

/** Issues and verifies the bearer tokens of signed-in users (HS256). */
export class TokenService {
  private readonly key: Uint8Array;

  constructor(
    secret: string,
    private readonly ttlSeconds: number,
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  /** A signed token naming the user. */
  async issue(userId: string): Promise<string> {
    return new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(userId)
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .sign(this.key);
  }

  /** The user id a token names; UNAUTHENTICATED when it is forged, malformed or expired. */
  async verify(token: string): Promise<string> {
    try {
      const { payload } = await jwtVerify(token, this.key, { issuer: ISSUER, algorithms: ['HS256'] });
      if (!payload.sub) throw unauthenticated('The token names no user.');
      return payload.sub;
    } catch (error) {
      if (error instanceof joseErrors.JOSEError) throw unauthenticated('The token is invalid or expired.');
      throw error;
    }
  }

  /** Reads `Bearer <token>` (or a bare token); null when absent. */
  async viewerFromAuthorization(header: unknown): Promise<{ id: string } | null> {
    if (typeof header !== 'string' || header.trim() === '') return null;
    const token = header.replace(/^Bearer\s+/i, '').trim();
    return { id: await this.verify(token) };
  }
}
