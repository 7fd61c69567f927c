/** AWS error names (and EC2 codes) that mean "this resource does not exist". */
const NOT_FOUND_NAMES = new Set([
  'NotFoundException', // API Gateway
  'ResourceNotFoundException', // Lambda, CloudWatch Logs
  'NoSuchEntityException', // IAM
  'NoSuchEntity',
  'ClusterNotFoundException', // ECS
  'InvalidVpcID.NotFound',
  'InvalidSubnetID.NotFound',
  'InvalidInternetGatewayID.NotFound',
  'InvalidRouteTableID.NotFound',
  'InvalidAssociationID.NotFound',
  'InvalidGroup.NotFound',
  'InvalidGroupId.Malformed',
  'InvalidRoute.NotFound',
  'Gateway.NotAttached',
]);

/** The error's AWS name: SDK v3 sets `name`; EC2 sometimes only has `Code`. */
export function awsErrorName(error: unknown): string | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const e = error as { name?: string; Code?: string; code?: string };
  return e.Code ?? e.code ?? e.name;
}

/** True when AWS said the resource is not there (so read returns undefined, delete succeeds). */
export function isNotFound(error: unknown): boolean {
  const name = awsErrorName(error);
  if (name && NOT_FOUND_NAMES.has(name)) return true;
  const message = error instanceof Error ? error.message : '';
  // ECS reports missing task definitions and clusters as ClientException with a message.
  return name === 'ClientException' && /(not found|does not exist|Unable to describe task definition)/i.test(message);
}

/** True when AWS reports throttling, including ECS wrapping EC2's in InvalidParameterException. */
export function isThrottle(error: unknown): boolean {
  const name = awsErrorName(error) ?? '';
  if (/Throttl|TooManyRequests|RequestLimitExceeded|SlowDown/i.test(name)) return true;
  const message = error instanceof Error ? error.message : '';
  return /Rate exceeded/i.test(message);
}
