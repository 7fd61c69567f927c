import { FilterLogEventsCommand, type FilteredLogEvent } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTasksCommand, ListTasksCommand, type DesiredStatus } from '@aws-sdk/client-ecs';
import type { AwsClients } from './clients.js';
import { isNotFound } from './not-found.js';

/** One log line, from either the handler's or the agent's log group. */
export interface LogLine {
  timestamp: number;
  source: 'handler' | 'agent';
  stream: string;
  message: string;
  eventId: string;
}

/** Where to read: the two log groups, optionally only some agent streams, from a time on. */
export interface LogQuery {
  handlerLogGroup: string;
  agentLogGroup: string;
  startTime: number;
  /** Only these agent streams (one run's task); the handler lines are then filtered to the run id. */
  agentStreams?: string[];
  handlerFilter?: string;
  limit: number;
}

/** FilterLogEvents pages forward from startTime; this bounds how far a busy window is read. */
const MAX_PAGES = 50;

/**
 * The newest `query.limit` events of one group in the window. CloudWatch returns the oldest first, so
 * every page is read and only the last `limit` events are kept.
 */
async function readGroup(clients: AwsClients, group: string, query: LogQuery, streams?: string[], filter?: string): Promise<FilteredLogEvent[]> {
  let newest: FilteredLogEvent[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    try {
      const response = await clients.logs.send(
        new FilterLogEventsCommand({ logGroupName: group, startTime: query.startTime, logStreamNames: streams, filterPattern: filter, nextToken }),
      );
      newest = [...newest, ...(response.events ?? [])].sort((a, b) => (a.timestamp ?? 0) - (b.timestamp ?? 0)).slice(-query.limit);
      nextToken = response.nextToken;
      if (!nextToken) break;
    } catch (error) {
      if (isNotFound(error)) break; // no stream written yet, or the group is gone
      throw error;
    }
  }
  return newest;
}

/** Recent lines of both log groups, merged in time order, at most `limit` (the newest). */
export async function readStackLogs(clients: AwsClients, query: LogQuery): Promise<LogLine[]> {
  const [handler, agent] = await Promise.all([
    readGroup(clients, query.handlerLogGroup, query, undefined, query.handlerFilter),
    query.agentStreams && query.agentStreams.length === 0 ? Promise.resolve([]) : readGroup(clients, query.agentLogGroup, query, query.agentStreams),
  ]);
  const lines = [
    ...handler.map((event) => toLine(event, 'handler')),
    ...agent.map((event) => toLine(event, 'agent')),
  ].sort((a, b) => a.timestamp - b.timestamp);
  return lines.slice(-query.limit);
}

function toLine(event: FilteredLogEvent, source: LogLine['source']): LogLine {
  return {
    timestamp: event.timestamp ?? 0,
    source,
    stream: event.logStreamName ?? '',
    // Control characters from a log line (a Terraform run's colours, a stray escape) must not drive the user's terminal.
    message: (event.message ?? '').replace(/\n$/, '').replace(/[\u0000-\u0008\u000b-\u001f\u007f\u009b]/g, ''),
    eventId: event.eventId ?? `${event.logStreamName}:${event.timestamp}:${event.message}`,
  };
}

/** The agent task(s) started for one Scalr run, found by the handler's `scalr:run-id` tag. */
export async function tasksOfRun(clients: AwsClients, cluster: string, runId: string): Promise<{ taskArn: string; taskId: string; lastStatus: string }[]> {
  const arns: string[] = [];
  for (const desiredStatus of ['RUNNING', 'STOPPED'] as DesiredStatus[]) {
    let nextToken: string | undefined;
    do {
      const page = await clients.ecs.send(new ListTasksCommand({ cluster, desiredStatus, nextToken }));
      arns.push(...(page.taskArns ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
  }
  const found: { taskArn: string; taskId: string; lastStatus: string }[] = [];
  for (let index = 0; index < arns.length; index += 100) {
    const { tasks } = await clients.ecs.send(new DescribeTasksCommand({ cluster, tasks: arns.slice(index, index + 100), include: ['TAGS'] }));
    for (const task of tasks ?? []) {
      if (task.tags?.some((tag) => tag.key === 'scalr:run-id' && tag.value === runId)) {
        found.push({ taskArn: task.taskArn!, taskId: task.taskArn!.split('/').pop()!, lastStatus: task.lastStatus ?? '' });
      }
    }
  }
  return found;
}
