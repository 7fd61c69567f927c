/**
 * The contract between `up` and the webhook handler: the environment variables the deployed
 * function receives and the names both sides must agree on. Nothing else is shared.
 */
export const HANDLER_ENV = {
  /** ECS cluster name or ARN to run agent tasks in. */
  cluster: 'SCALR_SERVERLESS_CLUSTER',
  /** Task definition ARN (family:revision) of the agent. */
  taskDefinition: 'SCALR_SERVERLESS_TASK_DEFINITION',
  /** Name of the agent container inside the task definition (container overrides must match it). */
  container: 'SCALR_SERVERLESS_CONTAINER',
  /** Comma-separated subnet ids, one per AZ; tried in turn when one AZ lacks capacity. */
  subnets: 'SCALR_SERVERLESS_SUBNETS',
  /** Comma-separated security group ids for the task's ENI. */
  securityGroups: 'SCALR_SERVERLESS_SECURITY_GROUPS',
  /** Optional comma-separated Scalr host allowlist, `*.scalr.io` style wildcards allowed. */
  allowedHosts: 'SCALR_SERVERLESS_ALLOWED_HOSTS',
  /** The stack name, for log lines and task tags. */
  stack: 'SCALR_SERVERLESS_STACK',
} as const;

/** The agent container's name in the task definition. */
export const AGENT_CONTAINER_NAME = 'scalr-agent';

/** The webhook's path and stage on the REST API. */
export const WEBHOOK_PATH = 'webhook';
export const WEBHOOK_STAGE = 'prod';

/** The Lambda handler entry inside dist/lambda.zip. */
export const HANDLER_ENTRY = 'index.handler';

/**
 * Tag keys the handler puts on every agent task, so a user (or `status`) can find the task of a
 * run with ListTasks + DescribeTasks, or in the console's tag filter.
 */
export const TASK_TAGS = {
  taskId: 'scalr:task-id',
  runId: 'scalr:run-id',
  workspaceId: 'scalr:workspace-id',
  environmentId: 'scalr:environment-id',
  action: 'scalr:action',
  stack: 'scalr-serverless:stack',
} as const;

/** Prefix of the `startedBy` value of every agent task (`scalr-` + 30 hex of sha256(task id)). */
export const STARTED_BY_PREFIX = 'scalr-';
