import {
  CreateSubnetCommand,
  DeleteSubnetCommand,
  DescribeSubnetsCommand,
  ModifySubnetAttributeCommand,
  type Subnet,
} from '@aws-sdk/client-ec2';
import { isNotFound } from '../aws/not-found.js';
import type { Created, Observed, Props, ResourceContext, ResourceKind } from './contract.js';
import { eniHolders, retryWhileInUse, tagSpecifications } from './ec2-shared.js';

/** Props of one public subnet. */
export interface SubnetProps extends Props {
  name: string;
  vpcId: string;
  cidrBlock: string;
  availabilityZone: string;
}

function created(subnet: Subnet): Created {
  return { id: subnet.SubnetId!, outputs: { id: subnet.SubnetId!, availabilityZone: subnet.AvailabilityZone ?? '' } };
}

async function describeSubnet(ctx: ResourceContext, id: string): Promise<Subnet | undefined> {
  try {
    const { Subnets } = await ctx.clients.ec2.send(new DescribeSubnetsCommand({ SubnetIds: [id] }));
    return Subnets?.[0];
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Tasks get public IPs (no NAT here), and instances launched by hand in the subnet should too. */
async function converge(ctx: ResourceContext, subnet: Subnet): Promise<void> {
  if (subnet.MapPublicIpOnLaunch) return;
  await ctx.clients.ec2.send(
    new ModifySubnetAttributeCommand({ SubnetId: subnet.SubnetId, MapPublicIpOnLaunch: { Value: true } }),
  );
}

/** A public subnet in one availability zone. */
export const subnetKind: ResourceKind<SubnetProps> = {
  kind: 'ec2.subnet',
  label: 'Subnet',
  replaceOn: ['vpcId', 'cidrBlock', 'availabilityZone'],

  async find(ctx, props) {
    // A CIDR block is unique within a VPC (EC2 rejects overlaps), and the VPC is this stack's, so
    // vpc-id + cidr-block names at most one subnet, and it is ours.
    const { Subnets } = await ctx.clients.ec2.send(
      new DescribeSubnetsCommand({
        Filters: [
          { Name: 'vpc-id', Values: [props.vpcId] },
          { Name: 'cidr-block', Values: [props.cidrBlock] },
        ],
      }),
    );
    return Subnets?.[0] ? created(Subnets[0]) : undefined;
  },

  async create(ctx, props) {
    const { Subnet: subnet } = await ctx.clients.ec2.send(
      new CreateSubnetCommand({
        VpcId: props.vpcId,
        CidrBlock: props.cidrBlock,
        AvailabilityZone: props.availabilityZone,
        TagSpecifications: tagSpecifications(ctx, 'subnet', props.name),
      }),
    );
    await converge(ctx, subnet!);
    return created(subnet!);
  },

  async read(ctx, id): Promise<Observed | undefined> {
    const subnet = await describeSubnet(ctx, id);
    if (!subnet) return undefined;
    return {
      outputs: created(subnet).outputs,
      props: {
        vpcId: subnet.VpcId ?? '',
        cidrBlock: subnet.CidrBlock ?? '',
        availabilityZone: subnet.AvailabilityZone ?? '',
      },
    };
  },

  async update(ctx, id) {
    const subnet = await describeSubnet(ctx, id);
    if (!subnet) throw new Error(`subnet ${id} disappeared during update`);
    await converge(ctx, subnet);
    return created(subnet);
  },

  async delete(ctx, id) {
    // Fargate ENIs stay in the subnet for minutes after their task stopped; DeleteSubnet answers
    // DependencyViolation until they are gone.
    try {
      await retryWhileInUse(
        ctx,
        () => ctx.clients.ec2.send(new DeleteSubnetCommand({ SubnetId: id })),
        eniHolders(ctx, [{ Name: 'subnet-id', Values: [id] }], `in ${id}`),
      );
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  },
};
