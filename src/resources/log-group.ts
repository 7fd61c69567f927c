import {
  CreateLogGroupCommand,
  DeleteLogGroupCommand,
  DeleteRetentionPolicyCommand,
  DescribeLogGroupsCommand,
  PutRetentionPolicyCommand,
  type LogGroup,
} from '@aws-sdk/client-cloudwatch-logs';
import { awsErrorName, isNotFound } from '../aws/not-found.js';
import type { Created, Observed, Props, ResourceContext, ResourceKind } from './contract.js';

/** Props of a CloudWatch log group; `retentionDays` 0 means never expire. */
export interface LogGroupProps extends Props {
  name: string;
  retentionDays: number;
}

function created(group: LogGroup, name: string): Created {
  // DescribeLogGroups' `arn` ends in `:*` (the log-stream wildcard); IAM policies and references
  // want the group's own ARN, which is the same without it.
  const arn = (group.arn ?? '').replace(/:\*$/, '');
  return { id: name, outputs: { id: name, name, arn } };
}

/** DescribeLogGroups filters by prefix only, so pick the exact name out of the pages. */
async function describeGroup(ctx: ResourceContext, name: string): Promise<LogGroup | undefined> {
  let nextToken: string | undefined;
  do {
    const page = await ctx.clients.logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name, nextToken }));
    const group = page.logGroups?.find((g) => g.logGroupName === name);
    if (group) return group;
    nextToken = page.nextToken;
  } while (nextToken);
  return undefined;
}

async function converge(ctx: ResourceContext, props: LogGroupProps): Promise<void> {
  if (props.retentionDays > 0) {
    await ctx.clients.logs.send(
      new PutRetentionPolicyCommand({ logGroupName: props.name, retentionInDays: props.retentionDays }),
    );
  } else {
    await ctx.clients.logs.send(new DeleteRetentionPolicyCommand({ logGroupName: props.name }));
  }
}

async function readBack(ctx: ResourceContext, name: string): Promise<Created> {
  const group = await describeGroup(ctx, name);
  if (!group) throw new Error(`log group ${name} disappeared`);
  return created(group, name);
}

/** A CloudWatch Logs group (the agents' and the webhook's logs), kept `retentionDays`. */
export const logGroupKind: ResourceKind<LogGroupProps> = {
  kind: 'logs.log-group',
  label: 'Log Group',
  replaceOn: ['name'],

  async find(ctx, props) {
    const group = await describeGroup(ctx, props.name);
    return group ? created(group, props.name) : undefined;
  },

  async create(ctx, props) {
    try {
      await ctx.clients.logs.send(new CreateLogGroupCommand({ logGroupName: props.name, tags: ctx.tags }));
    } catch (error) {
      // A run that died between CreateLogGroup and PutRetentionPolicy left the group: converge it.
      if (awsErrorName(error) !== 'ResourceAlreadyExistsException') throw error;
    }
    await converge(ctx, props);
    return readBack(ctx, props.name);
  },

  async read(ctx, id): Promise<Observed | undefined> {
    const group = await describeGroup(ctx, id);
    if (!group) return undefined;
    return { outputs: created(group, id).outputs, props: { name: id, retentionDays: group.retentionInDays ?? 0 } };
  },

  async update(ctx, id, props) {
    await converge(ctx, { ...props, name: id });
    return readBack(ctx, id);
  },

  async delete(ctx, id) {
    try {
      await ctx.clients.logs.send(new DeleteLogGroupCommand({ logGroupName: id }));
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  },
};
