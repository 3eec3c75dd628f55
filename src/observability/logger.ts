import { createRequire } from 'node:module';
import pino from 'pino';

// Tokens must never reach a log line (CONTRACT: Auth): redact every place one could sit.
const REDACT = ['authorization', '*.authorization', '*.*.authorization', 'headers.authorization', 'connectionParams', 'token', 'body'];

/** pino-pretty is a dev dependency: an install without dev dependencies logs JSON instead of failing to start. */
function prettyAvailable(): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}

export function createLogger(level: string, production: boolean) {
  const pretty = !production && process.stdout.isTTY && level !== 'silent' && prettyAvailable();
  return pino({
    level,
    redact: { paths: REDACT, censor: '[redacted]' },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l' } } } : {}),
  });
}
