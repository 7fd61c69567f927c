import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/** A running moto server: one endpoint for every AWS service, any credentials, account 123456789012. */
export interface MotoServer {
  endpoint: string;
  port: number;
  /** Environment for a child process (the CLI, a handler) that should talk to this moto. */
  env: Record<string, string>;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export const MOTO_ACCOUNT_ID = '123456789012';
const READY_TIMEOUT_MS = 30_000;

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts `moto_server` on a free port, with AWS managed policies loaded (otherwise
 * AmazonECSTaskExecutionRolePolicy is unknown) and ECS tasks kept RUNNING (moto advances a task one
 * state per DescribeTasks call unless told otherwise). Fails, never skips, when moto is missing.
 */
export async function startMoto(): Promise<MotoServer> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    env: { ...process.env, MOTO_IAM_LOAD_MANAGED_POLICIES: 'true' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const spawnError = new Promise<never>((_, reject) => {
    child.once('error', (error) =>
      reject(new Error(`cannot start moto_server (${error.message}): install it with pip install "moto[server]"`)),
    );
    child.once('exit', (code) => reject(new Error(`moto_server exited with ${code}: ${stderr}`)));
  });
  await Promise.race([waitUntilReady(endpoint), spawnError]);
  child.removeAllListeners('exit');
  await keepTasksRunning(endpoint);

  return {
    endpoint,
    port,
    env: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    async reset() {
      await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      await keepTasksRunning(endpoint);
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

async function waitUntilReady(endpoint: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${endpoint}/moto-api/data.json`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`moto_server did not answer on ${endpoint} within ${READY_TIMEOUT_MS} ms`);
}

async function keepTasksRunning(endpoint: string): Promise<void> {
  await fetch(`${endpoint}/moto-api/state-manager/set-transition`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model_name: 'ecs::task', transition: { progression: 'manual', times: 1_000_000 } }),
  });
}
