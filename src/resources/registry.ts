import type { ResourceKind } from './contract.js';
import { vpcKind } from './vpc.js';
import { subnetKind } from './subnet.js';
import { internetGatewayKind } from './internet-gateway.js';
import { routeTableKind } from './route-table.js';
import { securityGroupKind } from './security-group.js';
import { logGroupKind } from './log-group.js';
import { ecsClusterKind } from './ecs-cluster.js';
import { taskDefinitionKind } from './task-definition.js';
import { iamRole } from './iam-role.js';
import { lambdaFunction } from './lambda-function.js';
import { lambdaPermission } from './lambda-permission.js';
import { restApi } from './rest-api.js';
import { apiRoute } from './api-route.js';
import { apiDeployment } from './api-deployment.js';
import { apiStage } from './api-stage.js';
import { apiKey } from './api-key.js';
import { usagePlan } from './usage-plan.js';

const KINDS = [
  vpcKind,
  subnetKind,
  internetGatewayKind,
  routeTableKind,
  securityGroupKind,
  logGroupKind,
  ecsClusterKind,
  taskDefinitionKind,
  iamRole,
  lambdaFunction,
  lambdaPermission,
  restApi,
  apiRoute,
  apiDeployment,
  apiStage,
  apiKey,
  usagePlan,
] as unknown as ResourceKind[];

/** Every resource kind by its `kind` string: the engine's only way to reach AWS. */
export const registry: ReadonlyMap<string, ResourceKind> = new Map(KINDS.map((kind) => [kind.kind, kind]));
