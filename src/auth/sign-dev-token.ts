import { SignJWT } from 'jose';

export interface DevTokenInput {
  sub: string;
  name?: string;
  roles?: string[];
  /** jose time span, e.g. "12h". @default "12h" */
  expiresIn?: string;
  /** Set when the server checks JWT_ISSUER / JWT_AUDIENCE, so dev tokens still verify. */
  issuer?: string;
  audience?: string;
}

/** HS256 tokens for development (`npm run token`, the demo page) and tests. */
export function signDevToken(secret: string, { sub, name, roles, expiresIn = '12h', issuer, audience }: DevTokenInput): Promise<string> {
  let jwt = new SignJWT({ ...(name ? { name } : {}), ...(roles ? { roles } : {}) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(expiresIn);
  if (issuer) jwt = jwt.setIssuer(issuer);
  if (audience) jwt = jwt.setAudience(audience);
  return jwt.sign(new TextEncoder().encode(secret));
}
