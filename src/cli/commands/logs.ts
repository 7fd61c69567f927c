import { readStackLogs, tasksOfRun, type LogLine } from '../../aws/log-reader.js';
import { sleep } from '../../aws/retry.js';
import { stackNames } from '../../stack.js';
import { AGENT_CONTAINER_NAME } from '../../../lambda-src/contract.js';
import { UsageError } from '../../errors.js';
import { connect, loadLocalStack, type CommonOptions } from '../stack-context.js';
import { info, type Io } from '../output.js';

/** `logs` options. */
export interface LogsOptions extends CommonOptions {
  follow: boolean;
  runId?: string;
  since: string;
  limit: number;
}

/** How often --follow polls CloudWatch (FilterLogEvents allows 5 requests a second per account). */
const FOLLOW_POLL_INTERVAL_MS = 2000;
/** The awslogs stream prefix the task definition sets. */
const AGENT_STREAM_PREFIX = 'agent';

/** Parses 30s, 15m, 2h, 1d into milliseconds. */
export function parseSince(since: string): number {
  const match = /^(\d+)\s*(s|m|h|d)$/.exec(since.trim());
  if (!match) throw new UsageError(`invalid --since "${since}"`, 'use a duration such as 30m, 2h or 1d');
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

function format(line: LogLine): string {
  return `${new Date(line.timestamp).toISOString()} ${line.source.padEnd(7)} ${line.message}`;
}

/** Prints recent handler and agent log lines; --run narrows to one run's task; --follow keeps tailing. */
export async function logs(options: LogsOptions, io: Io) {
  const startTime = Date.now() - parseSince(options.since);
  if (!Number.isInteger(options.limit) || options.limit < 1) throw new UsageError(`--limit must be a positive whole number`);
  if (options.follow && io.json) throw new UsageError('--follow prints lines as they come and cannot be combined with --json');
  const local = await loadLocalStack(options);
  const { clients } = await connect(options, local);
  const names = stackNames(local.stack);
  let agentStreams: string[] | undefined;
  if (options.runId) {
    const tasks = await tasksOfRun(clients, names.cluster, options.runId);
    if (tasks.length === 0) info(io, `No agent task is tagged with run ${options.runId} (ECS keeps stopped tasks for about an hour); showing the handler's lines for it.`);
    agentStreams = tasks.map((task) => `${AGENT_STREAM_PREFIX}/${AGENT_CONTAINER_NAME}/${task.taskId}`);
  }
  const query = {
    handlerLogGroup: names.handlerLogGroup,
    agentLogGroup: names.agentLogGroup,
    startTime,
    agentStreams,
    handlerFilter: options.runId ? `"${options.runId}"` : undefined,
    limit: options.limit,
  };
  const lines = await readStackLogs(clients, query);
  // Log lines are the handler's and agent's own words; mask them anyway, since a user's Terraform may print anything.
  if (io.json) {
    io.stdout.write(`${io.secrets.mask(JSON.stringify({ stack: local.stack, lines }, null, 2))}\n`);
    return { lines };
  }
  const seen = new Set(lines.map((line) => line.eventId));
  for (const line of lines) io.stdout.write(`${io.secrets.mask(format(line))}\n`);
  if (lines.length === 0 && !options.follow) info(io, `No log lines in the last ${options.since}.`);
  let last = lines.at(-1)?.timestamp ?? startTime;
  while (options.follow) {
    await sleep(FOLLOW_POLL_INTERVAL_MS);
    const fresh = await readStackLogs(clients, { ...query, startTime: last });
    for (const line of fresh) {
      if (seen.has(line.eventId)) continue;
      seen.add(line.eventId);
      last = Math.max(last, line.timestamp);
      io.stdout.write(`${io.secrets.mask(format(line))}\n`);
    }
  }
  return { lines };
}
