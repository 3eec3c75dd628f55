import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { freePort } from './free-port.ts';
import { answersHealth } from './http-client.ts';
import { waitFor } from './wait.ts';

export interface Nginx {
  readonly port: number;
  readonly url: string;
  readonly wsUrl: string;
  readonly graphqlUrl: string;
}

/**
 * The upstream and location blocks of deploy/nginx.conf, for ports chosen by the test. Like the shipped file it
 * appends the client's address to X-Forwarded-For, which instances started with TRUST_PROXY=1 take as the client.
 */
export function nginxConfig(listenPort: number, upstreamPorts: number[], workDir: string): string {
  // One process (no master): teardown kills it by PID with SIGKILL, which would leave a master's worker orphaned.
  return `
master_process off;
daemon off;
pid ${workDir}/nginx.pid;
error_log ${workDir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${workDir}/body;
  proxy_temp_path ${workDir}/proxy;
  fastcgi_temp_path ${workDir}/fastcgi;
  uwsgi_temp_path ${workDir}/uwsgi;
  scgi_temp_path ${workDir}/scgi;
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  upstream chat { ${upstreamPorts.map((p) => `server 127.0.0.1:${p} max_fails=1 fail_timeout=2s;`).join(' ')} }
  server {
    listen 127.0.0.1:${listenPort};
    location / {
      proxy_pass http://chat;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_read_timeout 1h;
      proxy_send_timeout 1h;
      proxy_buffering off;
    }
  }
}
`;
}

/** A real nginx (Debian's nginx-light) in front of the given ports, on a free port; killed after the test. */
export async function startNginx(upstreamPorts: number[]): Promise<Nginx> {
  const port = await freePort();
  const workDir = mkdtempSync(join(tmpdir(), 'chat-nginx-'));
  const configPath = join(workDir, 'nginx.conf');
  writeFileSync(configPath, nginxConfig(port, upstreamPorts, workDir));
  const child = spawn('/usr/sbin/nginx', ['-c', configPath, '-p', workDir, '-e', join(workDir, 'error.log')], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    rmSync(workDir, { recursive: true, force: true });
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(() => answersHealth(url), 10_000, 'nginx to proxy /health');
  return { port, url, wsUrl: `ws://127.0.0.1:${port}/graphql`, graphqlUrl: `${url}/graphql` };
}
