import { Command, Option } from 'commander';
import type { CommonOptions } from './stack-context.js';
import type { Io } from './output.js';
import { parseInteger, DEFAULT_STACK, validateEndpointUrl, validateRegion, validateSettingFlags, validateStackName } from '../settings.js';
import type { Settings } from '../settings.js';
import { VERSION } from './version.js';

/** Runs a command with its parsed options; main.ts supplies the Io and prints errors. */
export type Runner = (run: (io: Io) => Promise<unknown>, flags: OutputFlags) => Promise<void>;

/** The flags that shape output, common to every command. */
export interface OutputFlags {
  json?: boolean;
  quiet?: boolean;
  debug?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Options every command takes, accepted after the subcommand. */
function withCommon(command: Command): Command {
  return command
    .option('--stack <name>', 'stack name; one stack per account and region is usual', DEFAULT_STACK)
    .option('--state <file>', 'state file (default: .scalr-serverless/<stack>.json in the current directory)')
    .option('--region <region>', 'AWS region (default: the state file, AWS_REGION, the profile, else us-east-1)')
    .option('--profile <name>', 'AWS profile from ~/.aws/config (default: AWS_PROFILE or the default chain)')
    .option('--endpoint-url <url>', 'send every AWS call here (LocalStack, moto); AWS_ENDPOINT_URL works too')
    .option('--json', 'print exactly one JSON document on stdout, nothing else there')
    .option('-q, --quiet', 'print only the result and warnings, no progress')
    .option('--debug', 'show stack traces of internal errors');
}

function withSettings(command: Command): Command {
  return command
    .option('--cpu <units>', 'agent task cpu units: 256, 512, 1024, 2048, 4096, 8192, 16384 (default 1024)')
    .option('--memory <MiB>', 'agent task memory in MiB, valid for the cpu on Fargate (default 2048)')
    .option('--image <ref>', 'agent container image (default scalr/agent:latest)')
    .option('--lambda-timeout <seconds>', 'webhook handler timeout, 1 to 900 (default 30)')
    .addOption(new Option('--allow-all-ingress', 'open the agent security group to all inbound traffic (default: none)'))
    .addOption(new Option('--no-allow-all-ingress', 'close the agent security group to inbound traffic again'))
    .option('--allowed-scalr-host <host>', 'accept webhooks only for this Scalr host (acme.scalr.io, *.scalr.io); repeatable', collect)
    .option('--any-scalr-host', 'forget the allowed hosts: accept any https Scalr URL again')
    .option('--task-policy-arn <arn>', 'attach this IAM policy to the agent task role; repeatable', collect)
    .option('--no-task-policies', 'detach every policy attached with --task-policy-arn')
    .option('--show-secrets', 'print the API key instead of masking it');
}

/** Turns the settings flags into the part of Settings they change; validation happens in settings.ts. */
export function settingsFromFlags(flags: Record<string, unknown>): Partial<Settings> {
  const settings: Partial<Settings> = {};
  if (flags.cpu !== undefined) settings.cpu = parseInteger('--cpu', String(flags.cpu));
  if (flags.memory !== undefined) settings.memory = parseInteger('--memory', String(flags.memory));
  if (flags.image !== undefined) settings.image = String(flags.image);
  if (flags.lambdaTimeout !== undefined) settings.lambdaTimeout = parseInteger('--lambda-timeout', String(flags.lambdaTimeout));
  if (flags.allowAllIngress !== undefined) settings.allowAllIngress = Boolean(flags.allowAllIngress);
  if (flags.anyScalrHost) settings.allowedScalrHosts = [];
  if (Array.isArray(flags.allowedScalrHost)) settings.allowedScalrHosts = [...new Set(flags.allowedScalrHost.map((h: string) => h.trim().toLowerCase()))];
  if (flags.taskPolicies === false) settings.taskPolicyArns = [];
  if (Array.isArray(flags.taskPolicyArn)) settings.taskPolicyArns = [...new Set(flags.taskPolicyArn as string[])];
  return validateSettingFlags(settings);
}

/**
 * The common options, checked here, before the command's module (and with it the AWS SDK, about a
 * second to load) is imported: a typo is reported at once. The commands check them again.
 */
function common(flags: Record<string, unknown>): CommonOptions {
  validateStackName(String(flags.stack));
  if (flags.region !== undefined) validateRegion(String(flags.region));
  if (flags.endpointUrl !== undefined) validateEndpointUrl(String(flags.endpointUrl));
  return {
    stack: String(flags.stack),
    state: flags.state as string | undefined,
    region: flags.region as string | undefined,
    profile: flags.profile as string | undefined,
    endpointUrl: flags.endpointUrl as string | undefined,
  };
}

/** Every command and option, declared in one place; each action is a plain async function loaded lazily. */
export function buildProgram(run: Runner): Command {
  const program = new Command('scalr-serverless')
    .description('Serverless Scalr agents on AWS ECS Fargate: one webhook, one short-lived agent task per Scalr run.')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(add --help for usage)')
    .addHelpText(
      'after',
      '\nEvery stack command takes --stack, --state, --region, --profile, --endpoint-url, --json, --quiet and\n--debug, after the command or before it. `scalr-serverless <command> --help` lists all of its options.',
    );

  withSettings(withCommon(program.command('up')))
    .description('create or update the stack; prints webhook_url and api_key')
    .option('--dry-run', 'show the plan and change nothing (same as `plan`)')
    .action((flags) =>
      run(async (io) => {
        const options = { ...common(flags), settings: settingsFromFlags(flags), dryRun: Boolean(flags.dryRun), showSecrets: Boolean(flags.showSecrets) };
        const { up } = await import('./commands/up.js');
        return up(options, io);
      }, flags),
    );

  withSettings(withCommon(program.command('plan')))
    .description('show what up would create, update or delete; makes no change')
    .action((flags) =>
      run(async (io) => {
        const options = { ...common(flags), settings: settingsFromFlags(flags), dryRun: true, showSecrets: Boolean(flags.showSecrets) };
        const { up } = await import('./commands/up.js');
        return up(options, io);
      }, flags),
    );

  withCommon(program.command('down'))
    .description('stop running agents and delete everything the stack created')
    .option('-y, --yes', 'do not ask for confirmation (required when not on a terminal)')
    .option('--keep-pools', 'delete the stack even if agent pools still point at it (default: detach them first)')
    .action((flags) =>
      run(async (io) => {
        const options = { ...common(flags), yes: Boolean(flags.yes), keepPools: Boolean(flags.keepPools) };
        const { down } = await import('./commands/down.js');
        return down(options, io);
      }, flags),
    );

  withCommon(program.command('status'))
    .description('show the outputs and whether each resource exists and matches')
    .option('--show-secrets', 'print the API key instead of masking it')
    .action((flags) =>
      run(async (io) => {
        const options = { ...common(flags), showSecrets: Boolean(flags.showSecrets) };
        const { status } = await import('./commands/status.js');
        return status(options, io);
      }, flags),
    );

  withCommon(program.command('logs'))
    .description("print recent log lines of the webhook handler and the agent tasks")
    .option('-f, --follow', 'keep printing new lines until interrupted')
    .option('--run <run-id>', "only this Scalr run: its agent task's lines and the handler's lines naming it")
    .option('--since <duration>', 'how far back: 30s, 15m, 2h, 1d', '1h')
    .option('--limit <lines>', 'at most this many lines', '200')
    .action((flags) =>
      run(async (io) => {
        const options = { ...common(flags), follow: Boolean(flags.follow), runId: flags.run, since: flags.since, limit: parseInteger('--limit', flags.limit) };
        const { logs } = await import('./commands/logs.js');
        return logs(options, io);
      }, flags),
    );

  withCommon(program.command('doctor'))
    .description('check credentials, region, the stack and its wiring; says how to fix each failure')
    .action((flags) =>
      run(async (io) => {
        const options = common(flags);
        const { doctor } = await import('./commands/doctor.js');
        return doctor(options, io);
      }, flags),
    );

  program
    .command('iam-policy')
    .description('print the least-privilege IAM policy needed to run scalr-serverless (JSON)')
    .option('--region <region>', 'scope the ARNs to this region (default: any)')
    .option('--account-id <id>', 'scope the ARNs to this account (default: any)')
    .option('--json', 'accepted for symmetry: the policy is always JSON')
    .action((flags) =>
      run(async (io) => {
        const { iamPolicy } = await import('./commands/iam-policy.js');
        return iamPolicy({ region: flags.region, accountId: flags.accountId }, io);
      }, flags),
    );

  const pool = program.command('pool').description('wire Scalr agent pools to the stack');
  const scalrOptions = (command: Command) =>
    withCommon(command)
      .option('--scalr-hostname <host>', 'Scalr host, e.g. acme.scalr.io (default: SCALR_HOSTNAME or ~/.scalr/scalr.conf)')
      .option('--scalr-token <token>', 'Scalr API token (prefer SCALR_TOKEN: flags show in process lists)');
  // The id is optional so that `pool attach --create <name>` needs none; attach() insists on exactly one.
  scalrOptions(pool.command('attach [agent-pool-id]'))
    .description('make an agent pool serverless: point its webhook at this stack (re-run to rotate the pool token)')
    .option('--agent-token <token>', 'the pool token agents use (prefer SCALR_AGENT_TOKEN); default: create one')
    .option('--create <name>', 'create the agent pool first, with this name')
    .action((poolId, flags) =>
      run(async (io) => {
        const { attach } = await import('./commands/pool.js');
        return attach({ ...common(flags), poolId, scalrHostname: flags.scalrHostname, scalrToken: flags.scalrToken, agentToken: flags.agentToken, createName: flags.create }, io);
      }, flags),
    );
  scalrOptions(pool.command('detach <agent-pool-id>'))
    .description("turn the pool's webhook off, clear its headers, delete the token attach created")
    .option('--force', "detach even when the pool's webhook points elsewhere; forget a pool Scalr no longer has")
    .action((poolId, flags) =>
      run(async (io) => {
        const { detach } = await import('./commands/pool.js');
        return detach({ ...common(flags), poolId, scalrHostname: flags.scalrHostname, scalrToken: flags.scalrToken, force: Boolean(flags.force) }, io);
      }, flags),
    );
  scalrOptions(pool.command('list'))
    .description("list the account's agent pools whose webhook is this stack's")
    .action((flags) =>
      run(async (io) => {
        const { list } = await import('./commands/pool.js');
        return list({ ...common(flags), scalrHostname: flags.scalrHostname, scalrToken: flags.scalrToken }, io);
      }, flags),
    );

  return program;
}
