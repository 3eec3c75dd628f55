import { SignJWT, type JWTPayload } from 'jose';

/** The HS256 secret every test app is configured with. */
export const TEST_SECRET = 'test-secret-0123456789abcdef0123456789abcdef';

export interface TestTokenOptions {
  secret?: string;
  alg?: 'HS256' | 'HS384' | 'HS512';
  /** jose time span or epoch seconds; `null` leaves `exp` out. @default "1h" */
  expiresIn?: string | number | null;
  issuer?: string;
  audience?: string;
}

export function signTestToken(claims: JWTPayload & { sub?: string }, options: TestTokenOptions = {}): Promise<string> {
  const { secret = TEST_SECRET, alg = 'HS256', expiresIn = '1h', issuer, audience } = options;
  const { sub, ...rest } = claims;
  let jwt = new SignJWT(rest).setProtectedHeader({ alg, typ: 'JWT' }).setIssuedAt();
  if (sub !== undefined) jwt = jwt.setSubject(sub);
  if (expiresIn !== null) jwt = jwt.setExpirationTime(expiresIn);
  if (issuer) jwt = jwt.setIssuer(issuer);
  if (audience) jwt = jwt.setAudience(audience);
  return jwt.sign(new TextEncoder().encode(secret));
}

/** An unsigned token (`alg: none`), which must never be accepted. */
export function unsignedToken(claims: JWTPayload): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ alg: 'none', typ: 'JWT' })}.${encode(claims)}.`;
}
