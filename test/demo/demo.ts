/**
 * `npm run demo`: the main job for a newcomer without an AWS account. Starts a local moto server,
 * runs the built CLI's `up` against it, sends one webhook delivery through the local gateway (which
 * checks the API key and wiring as API Gateway would, then runs the real handler package), shows the
 * agent task it started, and tears everything down with `down`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { DescribeTasksCommand, ECSClient, ListTasksCommand } from '@aws-sdk/client-ecs';
import { startMoto, type MotoServer } from '../helpers/moto.js';
import { startLocalGateway, type LocalGateway } from '../helpers/local-gateway.js';
import { CLI_BIN } from '../helpers/cli.js';

const ZIP_PATH = fileURLToPath(new URL('../../dist/lambda.zip', import.meta.url));
const STACK = 'demo';

function step(title: string): void {
  process.stdout.write(`\n\x1b[1m== ${title}\x1b[0m\n`);
}

function cli(args: string[], cwd: string, moto: MotoServer): string {
  process.stdout.write(`$ scalr-serverless ${args.join(' ')}\n`);
  const run = spawnSync(process.execPath, [CLI_BIN, ...args, '--stack', STACK], {
    cwd,
    env: { ...process.env, ...moto.env, CI: 'true' },
    encoding: 'utf8',
  });
  process.stdout.write(run.stderr);
  if (run.status !== 0) throw new Error(`scalr-serverless ${args[0]} exited with ${run.status}:\n${run.stdout}`);
  return run.stdout;
}

async function main(): Promise<void> {
  if (spawnSync('moto_server', ['--help'], { stdio: 'ignore' }).error) {
    process.stderr.write('moto_server is not installed. Install the AWS emulator first:\n  pip install "moto[server]"\nthen run `npm run demo` again.\n');
    process.exit(1);
  }
  const cwd = await mkdtemp(join(tmpdir(), 'scalr-serverless-demo-'));
  let moto: MotoServer | undefined;
  let gateway: LocalGateway | undefined;
  try {
    step('1. Start a local AWS emulator (moto)');
    moto = await startMoto();
    process.stdout.write(`moto listens on ${moto.endpoint}; every AWS call of the CLI goes there (AWS_ENDPOINT_URL).\n`);

    step('2. up: create the whole stack');
    process.stdout.write(cli(['up'], cwd, moto));

    step('3. The outputs, with the secret shown on request');
    const status = JSON.parse(cli(['status', '--json', '--show-secrets'], cwd, moto));
    process.stdout.write(`webhook_url = ${status.outputs.webhook_url}\napi_key     = ${status.outputs.api_key.slice(0, 4)}... (shown in full by --show-secrets)\n`);

    step('4. Scalr delivers a webhook (through a local stand-in for API Gateway)');
    const restApiId = status.resources.find((r: { key: string }) => r.key === 'restApi').id;
    gateway = await startLocalGateway({ motoEndpoint: moto.endpoint, restApiId, zipPath: ZIP_PATH });
    const url = gateway.webhookUrlFor('prod', 'webhook');
    const headers = {
      'content-type': 'application/json',
      'Idempotency-Key': 'atask-demo1',
      'X-Api-Key': status.outputs.api_key,
      'X-Scalr-Token': 'demo-agent-pool-token',
      'X-Scalr-Url': 'https://acme.scalr.io',
    };
    const body = JSON.stringify({ task_id: 'atask-demo1', action: 'plan', run_id: 'run-demo1', workspace_id: 'ws-demo', environment_id: 'env-demo', created_at: new Date().toISOString() });
    const wrongKey = await fetch(url, { method: 'POST', headers: { ...headers, 'X-Api-Key': 'wrong' }, body });
    process.stdout.write(`POST ${url} with a wrong API key -> ${wrongKey.status} ${await wrongKey.text()}\n`);
    const response = await fetch(url, { method: 'POST', headers, body });
    process.stdout.write(`POST ${url} with the stack's API key -> ${response.status} ${await response.text()}\n`);
    const again = await fetch(url, { method: 'POST', headers, body });
    process.stdout.write(`The same delivery again (Scalr retries) -> ${again.status} ${await again.text()}\n`);
    process.stdout.write(`The handler's log line: ${gateway.logs().filter((line) => line.startsWith('{')).at(-1) ?? '(none)'}\n`);

    step('5. The agent task it started in ECS');
    const ecs = new ECSClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'demo', secretAccessKey: 'demo' } });
    const cluster = `scalr-serverless-${STACK}`;
    const { taskArns } = await ecs.send(new ListTasksCommand({ cluster }));
    const { tasks } = await ecs.send(new DescribeTasksCommand({ cluster, tasks: taskArns, include: ['TAGS'] }));
    for (const task of tasks ?? []) {
      const env = task.overrides?.containerOverrides?.[0]?.environment ?? [];
      process.stdout.write(`${task.taskArn} ${task.lastStatus} launchType=${task.launchType}\n`);
      process.stdout.write(`  overrides: ${env.map((e) => `${e.name}=${e.name?.includes('TOKEN') ? '****' : e.value}`).join(' ')}\n`);
      process.stdout.write(`  tags: ${(task.tags ?? []).map((t) => `${t.key}=${t.value}`).join(' ')}\n`);
    }

    step('6. down: stop the agent and delete everything');
    await gateway.close();
    gateway = undefined;
    process.stdout.write(cli(['down', '--yes'], cwd, moto));
    process.stdout.write('\nDone. With real AWS credentials, `npx scalr-serverless up` does the same in your account.\n');
  } finally {
    await gateway?.close();
    await moto?.stop();
    await rm(cwd, { recursive: true, force: true });
  }
}

main().catch((error) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
