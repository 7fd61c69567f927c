import {
  CreateVpcCommand,
  DeleteVpcCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcsCommand,
  ModifyVpcAttributeCommand,
  type Vpc,
} from '@aws-sdk/client-ec2';
import { isNotFound } from '../aws/not-found.js';
import type { Created, Observed, Props, ResourceContext, ResourceKind } from './contract.js';
import { NETWORK_INTERFACE_RELEASE_TIMEOUT_MS, retryWhileInUse, stackNameFilters, tagSpecifications } from './ec2-shared.js';

/** Props of the stack's VPC. */
export interface VpcProps extends Props {
  name: string;
  cidrBlock: string;
  /** Always true; props so that a VPC whose DNS settings were lost (or never set) shows as drift. */
  enableDnsSupport: boolean;
  enableDnsHostnames: boolean;
}

function created(vpc: Vpc): Created {
  return { id: vpc.VpcId!, outputs: { id: vpc.VpcId!, cidrBlock: vpc.CidrBlock ?? '' } };
}

async function describeVpc(ctx: ResourceContext, id: string): Promise<Vpc | undefined> {
  try {
    const { Vpcs } = await ctx.clients.ec2.send(new DescribeVpcsCommand({ VpcIds: [id] }));
    return Vpcs?.[0];
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * Turns on DNS support and DNS hostnames. ModifyVpcAttribute takes one attribute per call (AWS rejects
 * both in one request). Hostnames give task ENIs their private DNS names, which moto's RunTask needs.
 * The two attributes are independent, so they are read and set side by side.
 */
async function converge(ctx: ResourceContext, id: string): Promise<void> {
  const ec2 = ctx.clients.ec2;
  await Promise.all([
    (async () => {
      const support = await ec2.send(new DescribeVpcAttributeCommand({ VpcId: id, Attribute: 'enableDnsSupport' }));
      if (!support.EnableDnsSupport?.Value) await ec2.send(new ModifyVpcAttributeCommand({ VpcId: id, EnableDnsSupport: { Value: true } }));
    })(),
    (async () => {
      const hostnames = await ec2.send(new DescribeVpcAttributeCommand({ VpcId: id, Attribute: 'enableDnsHostnames' }));
      if (!hostnames.EnableDnsHostnames?.Value) await ec2.send(new ModifyVpcAttributeCommand({ VpcId: id, EnableDnsHostnames: { Value: true } }));
    })(),
  ]);
}

/** The VPC the agents' subnets live in, with DNS support and hostnames. */
export const vpcKind: ResourceKind<VpcProps> = {
  kind: 'ec2.vpc',
  label: 'VPC',
  replaceOn: ['cidrBlock'],

  async find(ctx, props) {
    const { Vpcs } = await ctx.clients.ec2.send(new DescribeVpcsCommand({ Filters: stackNameFilters(ctx, props.name) }));
    return Vpcs?.[0] ? created(Vpcs[0]) : undefined;
  },

  async create(ctx, props) {
    const { Vpc: vpc } = await ctx.clients.ec2.send(
      new CreateVpcCommand({ CidrBlock: props.cidrBlock, TagSpecifications: tagSpecifications(ctx, 'vpc', props.name) }),
    );
    // A new VPC has DNS support on and DNS hostnames off (EC2's documented defaults): one call, not four.
    // A create killed before this call shows as drift (read observes both) and the next run's update sets it.
    await ctx.clients.ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpc!.VpcId!, EnableDnsHostnames: { Value: true } }));
    return created(vpc!);
  },

  async read(ctx, id): Promise<Observed | undefined> {
    const vpc = await describeVpc(ctx, id);
    if (!vpc) return undefined;
    const ec2 = ctx.clients.ec2;
    const [support, hostnames] = await Promise.all([
      ec2.send(new DescribeVpcAttributeCommand({ VpcId: id, Attribute: 'enableDnsSupport' })),
      ec2.send(new DescribeVpcAttributeCommand({ VpcId: id, Attribute: 'enableDnsHostnames' })),
    ]);
    return {
      outputs: created(vpc).outputs,
      props: {
        cidrBlock: vpc.CidrBlock ?? '',
        enableDnsSupport: support.EnableDnsSupport?.Value ?? false,
        enableDnsHostnames: hostnames.EnableDnsHostnames?.Value ?? false,
      },
    };
  },

  async update(ctx, id) {
    await converge(ctx, id);
    const vpc = await describeVpc(ctx, id);
    if (!vpc) throw new Error(`VPC ${id} disappeared during update`);
    return created(vpc);
  },

  async delete(ctx, id) {
    // Subnets, gateways and groups are deleted first, but EC2 keeps reporting DependencyViolation
    // until the ENIs of stopped tasks are released, so wait for that, bounded.
    try {
      await retryWhileInUse(
        ctx,
        () => ctx.clients.ec2.send(new DeleteVpcCommand({ VpcId: id })),
        { count: async () => 0, describe: () => `waiting for the dependencies of ${id} to be released` },
        NETWORK_INTERFACE_RELEASE_TIMEOUT_MS,
      );
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  },
};
