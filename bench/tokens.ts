import { SignJWT } from 'jose';

/** HS256 with the claims the project requires (`sub`, `exp`) plus `name`. */
export async function signToken(secret: string, sub: string, name = sub, ttlSeconds = 3_600): Promise<string> {
  return new SignJWT({ name })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(new TextEncoder().encode(secret));
}
