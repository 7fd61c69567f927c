import {
  AssociateRouteTableCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  DeleteRouteTableCommand,
  DescribeRouteTablesCommand,
  DisassociateRouteTableCommand,
  ReplaceRouteCommand,
  ReplaceRouteTableAssociationCommand,
  type RouteTable,
} from '@aws-sdk/client-ec2';
import { isNotFound } from '../aws/not-found.js';
import type { Created, Observed, Props, ResourceContext, ResourceKind } from './contract.js';
import { stackNameFilters, tagSpecifications } from './ec2-shared.js';

/** Props of the public route table: a default route to the gateway, associated with every subnet. */
export interface RouteTableProps extends Props {
  name: string;
  vpcId: string;
  gatewayId: string;
  subnetIds: string[];
}

const DEFAULT_ROUTE = '0.0.0.0/0';

function created(table: RouteTable): Created {
  return { id: table.RouteTableId!, outputs: { id: table.RouteTableId! } };
}

async function describeTable(ctx: ResourceContext, id: string): Promise<RouteTable | undefined> {
  try {
    const { RouteTables } = await ctx.clients.ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [id] }));
    return RouteTables?.[0];
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

function defaultRouteGateway(table: RouteTable): string {
  return table.Routes?.find((r) => r.DestinationCidrBlock === DEFAULT_ROUTE)?.GatewayId ?? '';
}

/** Subnet associations (the main-table association has no subnet and is not ours to remove). */
function subnetAssociations(table: RouteTable): { subnetId: string; associationId: string }[] {
  return (table.Associations ?? [])
    .filter((a) => !a.Main && a.SubnetId && a.RouteTableAssociationId)
    .map((a) => ({ subnetId: a.SubnetId!, associationId: a.RouteTableAssociationId! }));
}

/**
 * Associates a subnet. A subnet already associated with another table is moved over with
 * ReplaceRouteTableAssociation: AWS rejects AssociateRouteTable for it (Resource.AlreadyAssociated),
 * and moto silently returns the other table's association, so look first rather than catch.
 */
async function associate(ctx: ResourceContext, tableId: string, subnetId: string): Promise<void> {
  const ec2 = ctx.clients.ec2;
  const { RouteTables } = await ec2.send(
    new DescribeRouteTablesCommand({ Filters: [{ Name: 'association.subnet-id', Values: [subnetId] }] }),
  );
  const existing = RouteTables?.flatMap((t) => t.Associations ?? []).find((a) => a.SubnetId === subnetId);
  if (existing?.RouteTableAssociationId) {
    await ec2.send(
      new ReplaceRouteTableAssociationCommand({ AssociationId: existing.RouteTableAssociationId, RouteTableId: tableId }),
    );
  } else {
    await ec2.send(new AssociateRouteTableCommand({ RouteTableId: tableId, SubnetId: subnetId }));
  }
}

/**
 * Brings route and associations to `props`, whatever a crash or a hand edit left. The route and each
 * association are independent, so they are made side by side. `known` is the table as CreateRouteTable
 * returned it (no route, no association yet), which spares reading it back.
 */
async function converge(ctx: ResourceContext, id: string, props: RouteTableProps, known?: RouteTable): Promise<RouteTable> {
  const ec2 = ctx.clients.ec2;
  const table = known ?? (await describeTable(ctx, id));
  if (!table) throw new Error(`route table ${id} disappeared`);
  const gateway = defaultRouteGateway(table);
  const associations = subnetAssociations(table);
  const associated = new Set(associations.map((a) => a.subnetId));
  await Promise.all([
    gateway === props.gatewayId
      ? undefined
      : ec2.send(
          gateway
            ? new ReplaceRouteCommand({ RouteTableId: id, DestinationCidrBlock: DEFAULT_ROUTE, GatewayId: props.gatewayId })
            : new CreateRouteCommand({ RouteTableId: id, DestinationCidrBlock: DEFAULT_ROUTE, GatewayId: props.gatewayId }),
        ),
    ...props.subnetIds.filter((subnetId) => !associated.has(subnetId)).map((subnetId) => associate(ctx, id, subnetId)),
    ...associations
      .filter((association) => !props.subnetIds.includes(association.subnetId))
      .map((association) => ec2.send(new DisassociateRouteTableCommand({ AssociationId: association.associationId }))),
  ]);
  return table;
}

/** The route table that makes the stack's subnets public. */
export const routeTableKind: ResourceKind<RouteTableProps> = {
  kind: 'ec2.route-table',
  label: 'Route Table',
  replaceOn: ['vpcId'],

  async find(ctx, props) {
    const { RouteTables } = await ctx.clients.ec2.send(
      new DescribeRouteTablesCommand({
        Filters: [...stackNameFilters(ctx, props.name), { Name: 'vpc-id', Values: [props.vpcId] }],
      }),
    );
    return RouteTables?.[0] ? created(RouteTables[0]) : undefined;
  },

  async create(ctx, props) {
    const { RouteTable: table } = await ctx.clients.ec2.send(
      new CreateRouteTableCommand({ VpcId: props.vpcId, TagSpecifications: tagSpecifications(ctx, 'route-table', props.name) }),
    );
    return created(await converge(ctx, table!.RouteTableId!, props, table));
  },

  async read(ctx, id, props): Promise<Observed | undefined> {
    const table = await describeTable(ctx, id);
    if (!table) return undefined;
    const subnetIds = subnetAssociations(table).map((a) => a.subnetId).sort();
    // The engine compares arrays in order: the same set as recorded is reported in the recorded
    // order, so a stack whose subnet ids do not sort the same way is not seen as drifted.
    const recorded = Array.isArray(props?.subnetIds) ? props.subnetIds : [];
    const sameSet = recorded.length === subnetIds.length && [...recorded].sort().every((s, i) => s === subnetIds[i]);
    return {
      outputs: created(table).outputs,
      props: {
        vpcId: table.VpcId ?? '',
        gatewayId: defaultRouteGateway(table),
        subnetIds: sameSet ? recorded : subnetIds,
      },
    };
  },

  async update(ctx, id, props) {
    return created(await converge(ctx, id, props));
  },

  async delete(ctx, id) {
    const table = await describeTable(ctx, id);
    if (!table) return;
    // DeleteRouteTable answers DependencyViolation while any subnet is still associated.
    for (const association of subnetAssociations(table)) {
      try {
        await ctx.clients.ec2.send(new DisassociateRouteTableCommand({ AssociationId: association.associationId }));
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
    try {
      await ctx.clients.ec2.send(new DeleteRouteTableCommand({ RouteTableId: id }));
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  },
};
