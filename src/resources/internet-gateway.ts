import {
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  DeleteInternetGatewayCommand,
  DescribeInternetGatewaysCommand,
  DetachInternetGatewayCommand,
  type InternetGateway,
} from '@aws-sdk/client-ec2';
import { isNotFound } from '../aws/not-found.js';
import type { Created, Observed, Outputs, Props, ResourceContext, ResourceKind } from './contract.js';
import { eniHolders, retryWhileInUse, stackNameFilters, tagSpecifications } from './ec2-shared.js';

/** Props of the internet gateway attached to the stack's VPC. */
export interface InternetGatewayProps extends Props {
  name: string;
  vpcId: string;
}

/**
 * The VPC the gateway is attached to, if any. EC2 reports an attached internet gateway as
 * `available`, a value the SDK's AttachmentStatus type does not list, hence the string compare.
 */
function attachedVpc(gateway: InternetGateway): string | undefined {
  return gateway.Attachments?.find((a) => ['available', 'attached'].includes(String(a.State)))?.VpcId;
}

function created(gateway: InternetGateway): Created {
  const vpcId = attachedVpc(gateway);
  // vpcId is an output only once attached, so a route that refs it is ordered after the attachment.
  const outputs: Outputs = { id: gateway.InternetGatewayId! };
  if (vpcId) outputs.vpcId = vpcId;
  return { id: gateway.InternetGatewayId!, outputs };
}

async function describeGateway(ctx: ResourceContext, id: string): Promise<InternetGateway | undefined> {
  try {
    const { InternetGateways } = await ctx.clients.ec2.send(
      new DescribeInternetGatewaysCommand({ InternetGatewayIds: [id] }),
    );
    return InternetGateways?.[0];
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * Detaches from a VPC. Fargate ENIs keep their public IPs for minutes after a task stops, and
 * DetachInternetGateway answers DependencyViolation while any public address in the VPC is mapped.
 */
async function detach(ctx: ResourceContext, id: string, vpcId: string): Promise<void> {
  try {
    await retryWhileInUse(
      ctx,
      () => ctx.clients.ec2.send(new DetachInternetGatewayCommand({ InternetGatewayId: id, VpcId: vpcId })),
      eniHolders(ctx, [{ Name: 'vpc-id', Values: [vpcId] }], `with public IPs in ${vpcId}`, (eni) =>
        Boolean(eni.Association?.PublicIp),
      ),
    );
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/** Attaches the gateway to `vpcId`, detaching it first from any other VPC; returns the gateway as attached. */
async function converge(ctx: ResourceContext, id: string, vpcId: string): Promise<InternetGateway> {
  const gateway = await describeGateway(ctx, id);
  if (!gateway) throw new Error(`internet gateway ${id} disappeared`);
  for (const attachment of gateway.Attachments ?? []) {
    if (attachment.VpcId && attachment.VpcId !== vpcId) await detach(ctx, id, attachment.VpcId);
  }
  if (attachedVpc(gateway) !== vpcId) {
    await ctx.clients.ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: id, VpcId: vpcId }));
  }
  return (await describeGateway(ctx, id)) ?? gateway;
}

/** The stack's way out to the Scalr host and Docker Hub (public subnets, no NAT). */
export const internetGatewayKind: ResourceKind<InternetGatewayProps> = {
  kind: 'ec2.internet-gateway',
  label: 'Internet Gateway',
  replaceOn: [],

  async find(ctx, props) {
    const { InternetGateways } = await ctx.clients.ec2.send(
      new DescribeInternetGatewaysCommand({ Filters: stackNameFilters(ctx, props.name) }),
    );
    return InternetGateways?.[0] ? created(InternetGateways[0]) : undefined;
  },

  async create(ctx, props) {
    const { InternetGateway: gateway } = await ctx.clients.ec2.send(
      new CreateInternetGatewayCommand({ TagSpecifications: tagSpecifications(ctx, 'internet-gateway', props.name) }),
    );
    return created(await converge(ctx, gateway!.InternetGatewayId!, props.vpcId));
  },

  async read(ctx, id): Promise<Observed | undefined> {
    const gateway = await describeGateway(ctx, id);
    if (!gateway) return undefined;
    return { outputs: created(gateway).outputs, props: { vpcId: attachedVpc(gateway) ?? '' } };
  },

  async update(ctx, id, props) {
    return created(await converge(ctx, id, props.vpcId));
  },

  async delete(ctx, id) {
    const gateway = await describeGateway(ctx, id);
    if (!gateway) return;
    for (const attachment of gateway.Attachments ?? []) {
      if (attachment.VpcId) await detach(ctx, id, attachment.VpcId);
    }
    try {
      await ctx.clients.ec2.send(new DeleteInternetGatewayCommand({ InternetGatewayId: id }));
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  },
};
