import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  paginateListAttachedRolePolicies,
  paginateListRolePolicies,
  PutRolePolicyCommand,
  UpdateRoleCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { isNotFound } from '../aws/not-found.js';
import type { Created, Observed, PlainValue, Props, ResourceContext, ResourceKind } from './contract.js';
import { hasErrorName, ignoreNotFound, missingFrom, orderLike, sameJson, unlessNotFound } from './aws-helpers.js';

/** The name of the one inline policy this tool manages on a role. */
export const INLINE_POLICY_NAME = 'scalr-serverless';

/** Props of an IAM role assumable by one AWS service. */
export interface IamRoleProps extends Props {
  name: string;
  description: string;
  /** The service principal that may assume the role: 'ecs-tasks.amazonaws.com' or 'lambda.amazonaws.com'. */
  assumeRoleService: string;
  managedPolicyArns: string[];
  /** An IAM policy document, put as the inline policy `scalr-serverless`; null for none. */
  inlinePolicy: { [key: string]: PlainValue } | null;
}

/** The trust policy that lets `service` assume the role. */
export function trustPolicy(service: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }],
  });
}

function createdOf(role: { RoleName?: string; Arn?: string }): Created {
  const name = role.RoleName ?? '';
  return { id: name, outputs: { id: name, name, arn: role.Arn ?? '' } };
}

async function attachedPolicyArns(iam: IAMClient, roleName: string): Promise<string[]> {
  const arns: string[] = [];
  for await (const page of paginateListAttachedRolePolicies({ client: iam }, { RoleName: roleName })) {
    for (const policy of page.AttachedPolicies ?? []) if (policy.PolicyArn) arns.push(policy.PolicyArn);
  }
  return arns;
}

async function inlinePolicyNames(iam: IAMClient, roleName: string): Promise<string[]> {
  const names: string[] = [];
  for await (const page of paginateListRolePolicies({ client: iam }, { RoleName: roleName })) {
    names.push(...(page.PolicyNames ?? []));
  }
  return names;
}

/** Our inline policy document, or null. IAM returns documents URL-encoded (RFC 3986), as documented. */
async function inlinePolicy(iam: IAMClient, roleName: string): Promise<{ [key: string]: PlainValue } | null> {
  const policy = await unlessNotFound(
    iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: INLINE_POLICY_NAME })),
  );
  if (!policy?.PolicyDocument) return null;
  return JSON.parse(decodeURIComponent(policy.PolicyDocument)) as { [key: string]: PlainValue };
}

/** What a role has now; a role CreateRole just made is known to have no policies, so it is not read. */
interface RolePolicies {
  attached: string[];
  inline: { [key: string]: PlainValue } | null;
}

async function rolePolicies(iam: IAMClient, roleName: string): Promise<RolePolicies> {
  // Two independent reads: in parallel, so converging a role costs one round trip of reads, not two.
  const [attached, inline] = await Promise.all([attachedPolicyArns(iam, roleName), inlinePolicy(iam, roleName)]);
  return { attached, inline };
}

/** Brings description, managed policies and the inline policy to `props`; writes only what differs. */
async function converge(ctx: ResourceContext, props: IamRoleProps, description: string | undefined, known?: RolePolicies): Promise<void> {
  const iam = ctx.clients.iam;
  if ((description ?? '') !== props.description) {
    await iam.send(new UpdateRoleCommand({ RoleName: props.name, Description: props.description }));
  }
  const { attached, inline: current } = known ?? (await rolePolicies(iam, props.name));
  for (const arn of missingFrom(props.managedPolicyArns, attached)) {
    await iam.send(new AttachRolePolicyCommand({ RoleName: props.name, PolicyArn: arn }));
  }
  for (const arn of missingFrom(attached, props.managedPolicyArns)) {
    await ignoreNotFound(iam.send(new DetachRolePolicyCommand({ RoleName: props.name, PolicyArn: arn })));
  }
  if (props.inlinePolicy && !sameJson(current, props.inlinePolicy)) {
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: props.name,
        PolicyName: INLINE_POLICY_NAME,
        PolicyDocument: JSON.stringify(props.inlinePolicy),
      }),
    );
  } else if (!props.inlinePolicy && current) {
    await ignoreNotFound(iam.send(new DeleteRolePolicyCommand({ RoleName: props.name, PolicyName: INLINE_POLICY_NAME })));
  }
}

/** An IAM role for ECS tasks or Lambda, with its managed and inline policies. */
export const iamRole: ResourceKind<IamRoleProps> = {
  kind: 'iam.role',
  label: 'IAM Role',
  replaceOn: ['name', 'assumeRoleService'],
  findsByName: true,

  async find(ctx, props) {
    const found = await unlessNotFound(ctx.clients.iam.send(new GetRoleCommand({ RoleName: props.name })));
    return found?.Role ? createdOf(found.Role) : undefined;
  },

  async create(ctx, props) {
    let role;
    let adopted = false;
    try {
      const created = await ctx.clients.iam.send(
        new CreateRoleCommand({
          RoleName: props.name,
          Description: props.description,
          AssumeRolePolicyDocument: trustPolicy(props.assumeRoleService),
          Tags: Object.entries(ctx.tags).map(([Key, Value]) => ({ Key, Value })),
        }),
      );
      role = created.Role;
    } catch (error) {
      // A run that died after CreateRole left the role behind under its deterministic name: adopt it.
      if (!hasErrorName(error, 'EntityAlreadyExistsException', 'EntityAlreadyExists')) throw error;
      role = (await ctx.clients.iam.send(new GetRoleCommand({ RoleName: props.name }))).Role;
      adopted = true;
    }
    try {
      // A role CreateRole made has no policies yet; an adopted one is read like any other.
      await converge(ctx, props, role?.Description, adopted ? undefined : { attached: [], inline: null });
    } catch (error) {
      // A create that fails leaves nothing behind (a wrong policy ARN must not orphan the role).
      if (!adopted) await iamRole.delete(ctx, props.name, props).catch(() => undefined);
      throw error;
    }
    return createdOf(role ?? { RoleName: props.name });
  },

  async read(ctx, id, props): Promise<Observed | undefined> {
    const iam = ctx.clients.iam;
    const found = await unlessNotFound(iam.send(new GetRoleCommand({ RoleName: id })));
    if (!found?.Role) return undefined;
    try {
      const { attached, inline } = await rolePolicies(iam, id);
      return {
        outputs: createdOf(found.Role).outputs,
        props: {
          description: found.Role.Description ?? '',
          managedPolicyArns: orderLike(attached, props?.managedPolicyArns),
          inlinePolicy: inline,
        },
      };
    } catch (error) {
      // Deleted between GetRole and the policy listings.
      if (isNotFound(error)) return undefined;
      throw error;
    }
  },

  async update(ctx, id, props) {
    const role = (await ctx.clients.iam.send(new GetRoleCommand({ RoleName: id }))).Role;
    await converge(ctx, props, role?.Description);
    return createdOf(role ?? { RoleName: id });
  },

  async delete(ctx, id) {
    const iam = ctx.clients.iam;
    try {
      // DeleteRole fails with DeleteConflict while any policy is attached or inline.
      const [attached, inlineNames] = await Promise.all([attachedPolicyArns(iam, id), inlinePolicyNames(iam, id)]);
      for (const arn of attached) {
        await ignoreNotFound(iam.send(new DetachRolePolicyCommand({ RoleName: id, PolicyArn: arn })));
      }
      for (const name of inlineNames) {
        await ignoreNotFound(iam.send(new DeleteRolePolicyCommand({ RoleName: id, PolicyName: name })));
      }
      await iam.send(new DeleteRoleCommand({ RoleName: id }));
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  },
};
