import pino from 'pino';

// Tokens must never reach a log line (CONTRACT: Auth): redact every place one could sit.
const REDACT = ['authorization', '*.authorization', '*.*.authorization', 'headers.authorization', 'connectionParams', 'token', 'body'];

export function createLogger(level: string, production: boolean) {
  const pretty = !production && process.stdout.isTTY && level !== 'silent';
  return pino({
    level,
    redact: { paths: REDACT, censor: '[redacted]' },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l' } } } : {}),
  });
}
