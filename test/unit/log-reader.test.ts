import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { startMoto, type MotoServer } from '../helpers/moto.js';
import { motoResourceContext } from '../helpers/resource-context.js';
import { readStackLogs } from '../../src/aws/log-reader.js';

describe('reading the stack logs', () => {
  let moto: MotoServer;
  let ctx: Awaited<ReturnType<typeof motoResourceContext>>;
  const groups = { handlerLogGroup: '/aws/lambda/logs-test', agentLogGroup: '/ecs/logs-test' };
  const start = Date.now() - 50 * 60_000;

  beforeAll(async () => {
    moto = await startMoto();
    ctx = await motoResourceContext(moto, 'logs');
    for (const group of Object.values(groups)) await ctx.clients.logs.send(new CreateLogGroupCommand({ logGroupName: group }));
    await ctx.clients.logs.send(new CreateLogStreamCommand({ logGroupName: groups.handlerLogGroup, logStreamName: 's' }));
    // 300 lines, 10 s apart, over the last 50 minutes; the last one carries a terminal escape sequence.
    const events = Array.from({ length: 300 }, (_, i) => ({ timestamp: start + i * 10_000, message: i === 299 ? 'line 299 \u001b[2J\u001b[31mred' : `line ${i}` }));
    await ctx.clients.logs.send(new PutLogEventsCommand({ logGroupName: groups.handlerLogGroup, logStreamName: 's', logEvents: events }));
  });
  afterAll(async () => moto?.stop());

  it('returns the newest lines of the window, not the oldest', async () => {
    const lines = await readStackLogs(ctx.clients, { ...groups, startTime: start - 1000, limit: 5 });
    expect(lines.map((line) => line.message.split(' ').slice(0, 2).join(' '))).toEqual(['line 295', 'line 296', 'line 297', 'line 298', 'line 299']);
  });

  it('strips control characters, so a log line cannot drive the terminal', async () => {
    const [last] = await readStackLogs(ctx.clients, { ...groups, startTime: start - 1000, limit: 1 });
    expect(last.message).toBe('line 299 [2J[31mred');
  });
});
