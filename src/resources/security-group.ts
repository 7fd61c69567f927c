import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DeleteSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  RevokeSecurityGroupIngressCommand,
  type IpPermission,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import { awsErrorName, isNotFound } from '../aws/not-found.js';
import type { Created, Observed, Props, ResourceContext, ResourceKind } from './contract.js';
import { eniHolders, retryWhileInUse, tagSpecifications } from './ec2-shared.js';

/** Props of the agents' security group: all egress, and no ingress unless asked for. */
export interface SecurityGroupProps extends Props {
  name: string;
  description: string;
  vpcId: string;
  allowAllIngress: boolean;
}

const ALL_TRAFFIC: IpPermission = { IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] };

function isAllTraffic(permission: IpPermission): boolean {
  return permission.IpProtocol === '-1' && Boolean(permission.IpRanges?.some((r) => r.CidrIp === '0.0.0.0/0'));
}

function created(group: SecurityGroup): Created {
  return { id: group.GroupId!, outputs: { id: group.GroupId! } };
}

async function describeGroup(ctx: ResourceContext, id: string): Promise<SecurityGroup | undefined> {
  try {
    const { SecurityGroups } = await ctx.clients.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [id] }));
    return SecurityGroups?.[0];
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** A duplicate authorize means the rule is already there, which is what we wanted. */
async function ignoreDuplicate(call: Promise<unknown>): Promise<void> {
  try {
    await call;
  } catch (error) {
    if (awsErrorName(error) !== 'InvalidPermission.Duplicate') throw error;
  }
}

/** Makes the rules match: the all-traffic egress rule, and exactly all ingress or none. */
async function converge(ctx: ResourceContext, id: string, props: SecurityGroupProps): Promise<SecurityGroup> {
  const ec2 = ctx.clients.ec2;
  const group = await describeGroup(ctx, id);
  if (!group) throw new Error(`security group ${id} disappeared`);
  // A new VPC group comes with the all-traffic egress rule, but it may have been revoked by hand.
  if (!group.IpPermissionsEgress?.some(isAllTraffic)) {
    await ignoreDuplicate(ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: id, IpPermissions: [ALL_TRAFFIC] })));
  }
  const ingress = group.IpPermissions ?? [];
  const unwanted = props.allowAllIngress ? ingress.filter((p) => !isAllTraffic(p)) : ingress;
  if (unwanted.length > 0) {
    await ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: id, IpPermissions: unwanted }));
  }
  if (props.allowAllIngress && !ingress.some(isAllTraffic)) {
    await ignoreDuplicate(ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: id, IpPermissions: [ALL_TRAFFIC] })));
  }
  return group;
}

/** The security group of the agent tasks. */
export const securityGroupKind: ResourceKind<SecurityGroupProps> = {
  kind: 'ec2.security-group',
  label: 'Security Group',
  replaceOn: ['vpcId', 'name', 'description'],

  async find(ctx, props) {
    // Group names are unique per VPC, so name + VPC identifies it.
    const { SecurityGroups } = await ctx.clients.ec2.send(
      new DescribeSecurityGroupsCommand({
        Filters: [
          { Name: 'group-name', Values: [props.name] },
          { Name: 'vpc-id', Values: [props.vpcId] },
        ],
      }),
    );
    return SecurityGroups?.[0] ? created(SecurityGroups[0]) : undefined;
  },

  async create(ctx, props) {
    const { GroupId } = await ctx.clients.ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: props.name,
        Description: props.description,
        VpcId: props.vpcId,
        TagSpecifications: tagSpecifications(ctx, 'security-group', props.name),
      }),
    );
    return created(await converge(ctx, GroupId!, props));
  },

  async read(ctx, id): Promise<Observed | undefined> {
    const group = await describeGroup(ctx, id);
    if (!group) return undefined;
    return {
      outputs: created(group).outputs,
      props: {
        name: group.GroupName ?? '',
        description: group.Description ?? '',
        vpcId: group.VpcId ?? '',
        allowAllIngress: Boolean(group.IpPermissions?.some(isAllTraffic)),
      },
    };
  },

  async update(ctx, id, props) {
    return created(await converge(ctx, id, props));
  },

  async delete(ctx, id) {
    // The ENIs of stopped Fargate tasks keep the group in use for minutes: DependencyViolation until released.
    try {
      await retryWhileInUse(
        ctx,
        () => ctx.clients.ec2.send(new DeleteSecurityGroupCommand({ GroupId: id })),
        eniHolders(ctx, [{ Name: 'group-id', Values: [id] }], `using ${id}`),
      );
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  },
};
