import { UsageError } from './errors.js';

/** What a user can change about a stack; remembered in the state file so `up` with no flags keeps it. */
export interface Settings {
  cpu: number;
  memory: number;
  image: string;
  lambdaTimeout: number;
  allowAllIngress: boolean;
  /** Scalr hosts the webhook accepts (`acme.scalr.io`, `*.scalr.io`); empty means any https host. */
  allowedScalrHosts: string[];
  /** Managed policies attached to the agent's task role, for the AWS access Terraform runs need. */
  taskPolicyArns: string[];
}

/** The defaults of Scalr's own serverless module. */
export const DEFAULT_SETTINGS: Settings = {
  cpu: 1024,
  memory: 2048,
  image: 'scalr/agent:latest',
  lambdaTimeout: 30,
  allowAllIngress: false,
  allowedScalrHosts: [],
  taskPolicyArns: [],
};

export const DEFAULT_REGION = 'us-east-1';
export const DEFAULT_STACK = 'default';

/** Lambda allows 1 to 900 seconds. */
export const LAMBDA_TIMEOUT_RANGE_S = { min: 1, max: 900 } as const;

/**
 * The cpu/memory pairs Fargate accepts (anything else fails with "No Fargate configuration exists for
 * given values"), per the ECS task-size table: cpu units -> memory MiB.
 */
export const FARGATE_SIZES: ReadonlyMap<number, readonly number[]> = new Map([
  [256, [512, 1024, 2048]],
  [512, range(1024, 4096, 1024)],
  [1024, range(2048, 8192, 1024)],
  [2048, range(4096, 16384, 1024)],
  [4096, range(8192, 30720, 1024)],
  [8192, range(16384, 61440, 4096)],
  [16384, range(32768, 122880, 8192)],
]);

function range(from: number, to: number, step: number): number[] {
  const values: number[] = [];
  for (let value = from; value <= to; value += step) values.push(value);
  return values;
}

/** The longest stack name that fits every AWS name it ends up in (IAM role names are at most 64). */
export const MAX_STACK_NAME_LENGTH = 24;

/** Checks a stack name: it becomes part of IAM, Lambda, ECS, log group and API Gateway names. */
export function validateStackName(stack: string): string {
  if (!/^[a-z][a-z0-9-]*$/.test(stack) || stack.endsWith('-') || stack.includes('--') || stack.length > MAX_STACK_NAME_LENGTH) {
    throw new UsageError(
      `invalid --stack "${stack}"`,
      `use 1 to ${MAX_STACK_NAME_LENGTH} lowercase letters, digits and single hyphens, starting with a letter (e.g. prod, team-a)`,
    );
  }
  return stack;
}

/** Checks an AWS region name like us-east-1 or ap-southeast-2 (and us-gov-west-1). */
export function validateRegion(region: string): string {
  if (!/^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/.test(region)) {
    throw new UsageError(`invalid region "${region}"`, 'use an AWS region name such as us-east-1 or eu-west-1');
  }
  return region;
}

/** Checks a container image reference: [registry/]name[:tag][@sha256:digest]. */
export function validateImage(image: string): string {
  const pattern =
    /^(?:[a-zA-Z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;
  if (image.length > 255 || !pattern.test(image)) {
    throw new UsageError(`invalid --image "${image}"`, 'use a container image reference such as scalr/agent:latest or 123456789012.dkr.ecr.us-east-1.amazonaws.com/agent:1.2');
  }
  return image;
}

/** Parses a whole-number flag value, naming the flag when it is not one. */
export function parseInteger(flag: string, value: string): number {
  if (value.startsWith('--')) throw new UsageError(`${flag} needs a value, but the next word is the option ${value}`, `write ${flag} <number>`);
  if (!/^\d+$/.test(value.trim())) throw new UsageError(`${flag} must be a whole number, got "${value}"`);
  return Number(value.trim());
}

/** Checks a cpu/memory pair against Fargate's table; the message lists what is valid for the given cpu. */
export function validateTaskSize(cpu: number, memory: number): void {
  const memories = FARGATE_SIZES.get(cpu);
  if (!memories) {
    throw new UsageError(
      `--cpu ${cpu} is not a Fargate task size`,
      `use one of ${[...FARGATE_SIZES.keys()].join(', ')} (1024 = 1 vCPU)`,
    );
  }
  if (!memories.includes(memory)) {
    throw new UsageError(
      `--memory ${memory} is not valid with --cpu ${cpu} on Fargate`,
      `with --cpu ${cpu}, use --memory ${describeMemories(memories)} (MiB)`,
    );
  }
}

/** Up to this many valid memory values are listed one by one; longer lists read better as a range. */
const MAX_LISTED_MEMORY_VALUES = 8;

function describeMemories(memories: readonly number[]): string {
  if (memories.length <= MAX_LISTED_MEMORY_VALUES) return `${memories.slice(0, -1).join(', ')} or ${memories.at(-1)}`;
  const step = memories[1] - memories[0];
  return `${memories[0]} to ${memories.at(-1)} in steps of ${step}`;
}

/** Checks a Lambda timeout in seconds. */
export function validateLambdaTimeout(seconds: number): void {
  if (!Number.isInteger(seconds) || seconds < LAMBDA_TIMEOUT_RANGE_S.min || seconds > LAMBDA_TIMEOUT_RANGE_S.max) {
    throw new UsageError(`--lambda-timeout ${seconds} is out of range`, `use ${LAMBDA_TIMEOUT_RANGE_S.min} to ${LAMBDA_TIMEOUT_RANGE_S.max} seconds`);
  }
}

/** Checks an allowed Scalr host: `acme.scalr.io` or a `*.scalr.io` wildcard. */
export function validateAllowedHost(host: string): string {
  const normalized = host.trim().toLowerCase();
  if (!/^(\*\.)?([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$/.test(normalized) && normalized !== 'localhost') {
    throw new UsageError(`invalid --allowed-scalr-host "${host}"`, 'use a host name such as acme.scalr.io, or a wildcard such as *.scalr.io (no scheme, no path)');
  }
  return normalized;
}

/** Checks an IAM policy ARN for --task-policy-arn. */
export function validatePolicyArn(arn: string): string {
  if (!/^arn:aws[a-z-]*:iam::(aws|\d{12}):policy\/[\w+=,.@/-]+$/.test(arn)) {
    throw new UsageError(`invalid --task-policy-arn "${arn}"`, 'use an IAM policy ARN such as arn:aws:iam::aws:policy/ReadOnlyAccess');
  }
  return arn;
}

/**
 * Checks each setting a flag gave, on its own, so a typo fails at once, before the command loads the
 * AWS SDK; the pair check that needs the remembered cpu or memory runs again in validateSettings.
 */
export function validateSettingFlags(given: Partial<Settings>): Partial<Settings> {
  if (given.cpu !== undefined && !FARGATE_SIZES.has(given.cpu)) validateTaskSize(given.cpu, given.memory ?? 0);
  if (given.cpu !== undefined && given.memory !== undefined) validateTaskSize(given.cpu, given.memory);
  if (given.image !== undefined) validateImage(given.image);
  if (given.lambdaTimeout !== undefined) validateLambdaTimeout(given.lambdaTimeout);
  given.allowedScalrHosts?.forEach(validateAllowedHost);
  given.taskPolicyArns?.forEach(validatePolicyArn);
  return given;
}

/** Checks an --endpoint-url: an http(s) URL such as http://localhost:4566. */
export function validateEndpointUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.protocol === 'http:' || parsed.protocol === 'https:') return url;
  } catch {
    // not a URL at all: the same message as a URL of another scheme
  }
  throw new UsageError(`invalid --endpoint-url "${url}"`, 'use an http(s) URL such as http://localhost:4566');
}

/** Checks a whole settings object (after flags were merged over the remembered settings). */
export function validateSettings(settings: Settings): Settings {
  validateTaskSize(settings.cpu, settings.memory);
  validateImage(settings.image);
  validateLambdaTimeout(settings.lambdaTimeout);
  settings.allowedScalrHosts.forEach(validateAllowedHost);
  settings.taskPolicyArns.forEach(validatePolicyArn);
  return settings;
}
