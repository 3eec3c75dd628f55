import { createRemoteJWKSet, importSPKI, jwtVerify, type CryptoKey, type JWTVerifyGetKey, type JWTPayload } from 'jose';
import type { Viewer } from '../chat/types.ts';
import type { AuthConfig } from '../config.ts';

/** Why a token was refused; logged as such, never with the token. */
export type TokenRejection = 'missing' | 'malformed' | 'invalid';

export type VerifyResult = { ok: true; viewer: Viewer } | { ok: false; reason: TokenRejection };

export interface VerifyOptions {
  /**
   * Remember the token once verified (see `cacheSize`). false for a WebSocket's connection_init: a socket is
   * verified once for its life, and its token kept in the cache would cost every idle socket an entry (the token
   * string, ~270 bytes with the Map's slot) that only a reconnect with the same token could use. @default true
   */
  remember?: boolean;
}

export interface TokenVerifier {
  /** Accepts `Bearer <jwt>` or a bare JWT. Never throws: every failure is a result. */
  verify(authorization: unknown, options?: VerifyOptions): Promise<VerifyResult>;
  /**
   * What `verify` would answer, when it can be told without a signature check: a missing token, or one verified
   * before and remembered (refused once expired). undefined otherwise. Lets the HTTP context of a client that
   * sends the same token with every request be built without a promise.
   */
  known(authorization: unknown): VerifyResult | undefined;
}

// Asymmetric keys: only the algorithms that a PEM or JWKS of ours can be (pitfalls §17: an allowlist, never `none`).
const ASYMMETRIC_ALGORITHMS = ['RS256', 'ES256'];

export interface TokenVerifierOptions {
  /**
   * Verified tokens remembered, so an HTTP client sending the same token with every request pays for the
   * signature check once (it was a tenth of the CPU of a sendMessage). Entries leave at `exp`. @default 10_000
   */
  cacheSize?: number;
}

export async function createTokenVerifier(config: AuthConfig, { cacheSize = 10_000 }: TokenVerifierOptions = {}): Promise<TokenVerifier> {
  const key: Uint8Array | CryptoKey | JWTVerifyGetKey =
    config.kind === 'secret'
      ? new TextEncoder().encode(config.secret)
      : config.kind === 'public-key'
        ? await importPublicKey(config.publicKeyPem)
        : createRemoteJWKSet(new URL(config.jwksUrl), { timeoutDuration: 5_000 });
  const algorithms = config.kind === 'secret' ? ['HS256'] : ASYMMETRIC_ALGORITHMS;
  const options = {
    algorithms,
    requiredClaims: ['exp', 'sub'],
    ...(config.issuer ? { issuer: config.issuer } : {}),
    ...(config.audience ? { audience: config.audience } : {}),
  };

  // Map order is insertion order: the first key is the oldest, evicted when full.
  const verified = new Map<string, Viewer>();
  const remember = (token: string, viewer: Viewer) => {
    if (verified.size >= cacheSize) verified.delete(verified.keys().next().value as string);
    verified.set(token, viewer);
  };

  const tokenOf = (authorization: string) => authorization.trim().replace(/^Bearer\s+/i, '');
  const known = (authorization: unknown): VerifyResult | undefined => {
    if (typeof authorization !== 'string' || !authorization.trim()) return { ok: false, reason: 'missing' };
    const token = tokenOf(authorization);
    const viewer = verified.get(token);
    if (!viewer) return undefined;
    if (viewer.expiresAt > Date.now()) return { ok: true, viewer };
    verified.delete(token);
    return { ok: false, reason: 'invalid' };
  };

  return {
    known,
    async verify(authorization, { remember: keep = true } = {}) {
      const answer = known(authorization);
      // `known` answers every authorization that is not a non-empty string.
      if (answer || typeof authorization !== 'string') return answer ?? { ok: false, reason: 'missing' };
      const token = tokenOf(authorization);
      if (!/^[\w-]+\.[\w-]+\.[\w-]*$/.test(token)) return { ok: false, reason: 'malformed' };
      try {
        // jose's overloads differ for keys and key getters; both are valid at runtime.
        const { payload } = typeof key === 'function' ? await jwtVerify(token, key, options) : await jwtVerify(token, key, options);
        const viewer = toViewer(payload);
        if (!viewer) return { ok: false, reason: 'invalid' };
        if (keep) remember(token, viewer);
        return { ok: true, viewer };
      } catch {
        // jose throws TypeError (key type mismatch) as well as JOSEError: every throw is a refusal (pitfalls §12).
        return { ok: false, reason: 'invalid' };
      }
    },
  };
}

async function importPublicKey(pem: string): Promise<CryptoKey> {
  for (const alg of ASYMMETRIC_ALGORITHMS) {
    try {
      return await importSPKI(pem, alg);
    } catch {
      // An RSA key does not import as ES256 and the reverse: try the next.
    }
  }
  throw new Error('JWT_PUBLIC_KEY is neither an RSA (RS256) nor a P-256 (ES256) public key');
}

/** Most viewers have no roles: one frozen empty list for all of them, not an array per socket. */
const NO_ROLES: readonly string[] = Object.freeze([]);

function toViewer(payload: JWTPayload): Viewer | null {
  const { sub, exp } = payload;
  if (typeof sub !== 'string' || !sub || sub.length > 256 || typeof exp !== 'number') return null;
  const name = typeof payload.name === 'string' && payload.name.trim() ? payload.name.trim().slice(0, 100) : sub;
  const roles = Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === 'string') : NO_ROLES;
  return { id: sub, name, roles: roles.length > 0 ? roles : NO_ROLES, expiresAt: exp * 1000 };
}
