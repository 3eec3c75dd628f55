import { onTestFinished } from 'vitest';
import { createApp, type App } from '../../src/app.ts';
import { silentLogger } from '../../src/chat/logger.ts';
import { loadConfig } from '../../src/config.ts';
import { TEST_SECRET } from './tokens.ts';

export interface TestApp {
  app: App;
  port: number;
  /** http://127.0.0.1:<port> */
  url: string;
  /** ws://127.0.0.1:<port>/graphql */
  wsUrl: string;
  graphqlUrl: string;
  stop(): Promise<void>;
}

/**
 * A real server in this process on a free port, configured through the same env names as production.
 * Stopped after the test that started it, pass or fail.
 */
export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_SECRET, HOST: '127.0.0.1', PORT: '0', ...env });
  const app = await createApp(config, silentLogger);
  const { port, url } = await app.listen();
  const stop = () => app.stop();
  onTestFinished(stop);
  return {
    app,
    port,
    url,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    graphqlUrl: `${url}/graphql`,
    stop,
  };
}
