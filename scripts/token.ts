// `npm run token -- <userId> [name] [--admin] [--expires 12h]`: a token for GraphiQL and clients.
import { signDevToken } from '../src/auth/sign-dev-token.ts';
import { loadConfig } from '../src/config.ts';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const at = args.indexOf(name);
  return at < 0 ? undefined : args.splice(at, 2)[1];
};
const expiresIn = flag('--expires') ?? '12h';
const admin = args.includes('--admin');
const [sub, ...nameParts] = args.filter((a) => a !== '--admin');
if (!sub) {
  console.error('usage: npm run token -- <userId> [name] [--admin] [--expires 12h]');
  process.exit(2);
}
const { auth } = loadConfig(process.env);
if (auth.kind !== 'secret') {
  console.error('npm run token signs with JWT_SECRET (or the dev secret); this configuration verifies public keys.');
  process.exit(2);
}
const name = nameParts.join(' ') || undefined;
const token = await signDevToken(auth.secret, {
  sub,
  expiresIn,
  ...(name ? { name } : {}),
  ...(admin ? { roles: ['admin'] } : {}),
  ...(auth.issuer ? { issuer: auth.issuer } : {}),
  ...(auth.audience ? { audience: auth.audience } : {}),
});
console.log(token);
