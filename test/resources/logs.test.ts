import { DescribeLogGroupsCommand, ListTagsLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResourceContext } from '../../src/resources/contract.js';
import { logGroupKind } from '../../src/resources/log-group.js';
import { startMoto, type MotoServer } from '../helpers/moto.js';
import { motoResourceContext } from '../helpers/resource-context.js';

let moto: MotoServer;
let ctx: ResourceContext;

beforeAll(async () => {
  moto = await startMoto();
  ctx = await motoResourceContext(moto, 'logtest');
}, 60_000);

afterAll(async () => {
  await moto?.stop();
});

async function describeGroup(name: string) {
  const { logGroups } = await ctx.clients.logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name }));
  return logGroups?.find((g) => g.logGroupName === name);
}

describe('logs.log-group', () => {
  it('creates a tagged group with retention, adopts it by exact name, updates retention, deletes idempotently', async () => {
    const props = { name: '/ecs/logtest', retentionDays: 30 };
    // A group whose name extends ours must not be mistaken for it.
    await logGroupKind.create(ctx, { name: '/ecs/logtest-other', retentionDays: 1 });
    expect(await logGroupKind.find(ctx, props)).toBeUndefined();

    const made = await logGroupKind.create(ctx, props);
    expect(made.id).toBe('/ecs/logtest');
    expect(made.outputs.name).toBe('/ecs/logtest');
    expect(made.outputs.arn).toBe('arn:aws:logs:us-east-1:123456789012:log-group:/ecs/logtest');
    expect((await describeGroup(props.name))?.retentionInDays).toBe(30);
    const { tags } = await ctx.clients.logs.send(new ListTagsLogGroupCommand({ logGroupName: props.name }));
    expect(tags).toMatchObject({ 'scalr-serverless:stack': 'logtest' });

    expect(await logGroupKind.read(ctx, made.id, props)).toEqual({
      outputs: made.outputs,
      props: { name: '/ecs/logtest', retentionDays: 30 },
    });
    expect((await logGroupKind.find(ctx, props))?.id).toBe(made.id);

    // A re-run after a crash between CreateLogGroup and PutRetentionPolicy converges instead of failing.
    const again = await logGroupKind.create(ctx, { ...props, retentionDays: 14 });
    expect(again.id).toBe(made.id);
    expect((await describeGroup(props.name))?.retentionInDays).toBe(14);

    await logGroupKind.update!(ctx, made.id, { ...props, retentionDays: 7 }, props);
    expect((await describeGroup(props.name))?.retentionInDays).toBe(7);

    await logGroupKind.delete(ctx, made.id, props);
    expect(await describeGroup(props.name)).toBeUndefined();
    expect(await logGroupKind.read(ctx, made.id, props)).toBeUndefined();
    await logGroupKind.delete(ctx, made.id, props);
    expect(await describeGroup('/ecs/logtest-other')).toBeDefined();
  });
});
