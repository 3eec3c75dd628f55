import { SignJWT } from 'jose';

export interface DevTokenInput {
  sub: string;
  name?: string;
  roles?: string[];
  /** jose time span, e.g. "12h". @default "12h" */
  expiresIn?: string;
}

/** HS256 tokens for development (`npm run token`, the demo page) and tests. */
export function signDevToken(secret: string, { sub, name, roles, expiresIn = '12h' }: DevTokenInput): Promise<string> {
  return new SignJWT({ ...(name ? { name } : {}), ...(roles ? { roles } : {}) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}
