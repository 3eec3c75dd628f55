import { createApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { createLogger } from './observability/logger.ts';

let config;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}
const logger = createLogger(config.logLevel, config.production);
if (config.auth.kind === 'secret' && config.auth.devSecret) {
  logger.warn({}, 'JWT_SECRET is not set: using the built-in development secret. Never do this in production.');
}

process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled rejection'));

const app = await createApp(config, logger);
const { url } = await app.listen();
logger.info({ url: `${url}/graphql`, cluster: Boolean(config.redisUrl) }, `chat server ready at ${url}/graphql`);

let shuttingDown = false;
const shutdown = (signal: string) => {
  if (shuttingDown) return;
  shuttingDown = true;
  logger.info({ signal }, 'shutting down');
  const forced = setTimeout(() => {
    logger.error({}, 'shutdown took too long; exiting');
    process.exit(1);
  }, config.shutdownTimeoutMs);
  forced.unref();
  app.stop().then(
    () => process.exit(0),
    (error: unknown) => {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    },
  );
};
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
