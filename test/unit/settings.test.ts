import { describe, expect, it } from 'vitest';
import {
  FARGATE_SIZES,
  MAX_STACK_NAME_LENGTH,
  parseInteger,
  validateAllowedHost,
  validateImage,
  validateLambdaTimeout,
  validatePolicyArn,
  validateRegion,
  validateSettings,
  validateStackName,
  validateTaskSize,
  DEFAULT_SETTINGS,
} from '../../src/settings.js';
import { UsageError } from '../../src/errors.js';

/** The UsageError a call throws, with its message and hint joined as the user reads them. */
function usageText(call: () => unknown): string {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    const usage = error as UsageError;
    return `${usage.message}\n${usage.hint ?? ''}`;
  }
  throw new Error('expected a UsageError, nothing was thrown');
}

describe('Fargate task sizes', () => {
  it('accepts every pair of the ECS task-size table and nothing in between', () => {
    for (const [cpu, memories] of FARGATE_SIZES) {
      for (const memory of memories) expect(() => validateTaskSize(cpu, memory)).not.toThrow();
      expect(() => validateTaskSize(cpu, memories[0] - 1)).toThrow(UsageError);
      expect(() => validateTaskSize(cpu, memories.at(-1)! + 1024 * 8)).toThrow(UsageError);
    }
  });

  it('names the valid cpu values for an unknown cpu', () => {
    const text = usageText(() => validateTaskSize(333, 2048));
    for (const cpu of FARGATE_SIZES.keys()) expect(text).toContain(String(cpu));
  });

  it('lists every memory value valid for cpu 1024 when the memory does not fit', () => {
    const text = usageText(() => validateTaskSize(1024, 512));
    expect(text).toContain('--cpu 1024');
    for (const memory of [2048, 3072, 4096, 5120, 6144, 7168, 8192]) expect(text).toContain(String(memory));
    expect(text).not.toMatch(/\b512\b.*MiB/);
  });

  it('gives the range and step where the list would be long (cpu 4096)', () => {
    expect(usageText(() => validateTaskSize(4096, 4096))).toMatch(/8192 to 30720 in steps of 1024/);
  });
});

describe('single values', () => {
  it('lambda timeout: 1 and 900 are fine, 0, 901 and fractions are not, and the range is named', () => {
    expect(() => validateLambdaTimeout(1)).not.toThrow();
    expect(() => validateLambdaTimeout(900)).not.toThrow();
    for (const bad of [0, 901, 1.5]) expect(usageText(() => validateLambdaTimeout(bad))).toMatch(/1 to 900/);
  });

  it('whole numbers only, naming the flag', () => {
    expect(parseInteger('--cpu', ' 512 ')).toBe(512);
    for (const bad of ['abc', '-1', '1e3', '2.5', '']) expect(usageText(() => parseInteger('--lambda-timeout', bad))).toContain('--lambda-timeout');
  });

  it('regions: real shapes pass, others are refused with an example', () => {
    for (const region of ['us-east-1', 'eu-west-3', 'ap-southeast-2', 'us-gov-west-1', 'il-central-1']) expect(validateRegion(region)).toBe(region);
    for (const bad of ['moon-1', 'US-EAST-1', 'us-east', 'useast1', '']) expect(usageText(() => validateRegion(bad))).toContain('us-east-1');
  });

  it('images: Docker Hub, ECR, tags and digests pass; spaces, upper case names and empty do not', () => {
    for (const image of ['scalr/agent', 'scalr/agent:0.45.0', '123456789012.dkr.ecr.us-east-1.amazonaws.com/agent:1.2', `scalr/agent@sha256:${'a'.repeat(64)}`, 'localhost:5000/a/b:c']) {
      expect(validateImage(image)).toBe(image);
    }
    for (const bad of ['Bad Image', 'Scalr/Agent', '', 'scalr/agent:', `a:${'x'.repeat(200)}`]) expect(usageText(() => validateImage(bad))).toContain('scalr/agent:latest');
  });

  it('stack names: fit every AWS name limit and say what is allowed', () => {
    // The longest derived name is the IAM role `scalr-serverless-<stack>-execution`; IAM allows 64 characters.
    const longest = 'a'.repeat(MAX_STACK_NAME_LENGTH);
    expect(validateStackName(longest)).toBe(longest);
    expect(`scalr-serverless-${longest}-execution`.length).toBeLessThanOrEqual(64);
    for (const bad of ['Bad_Name', 'a'.repeat(40), '1abc', 'a--b', 'a-', '']) {
      expect(usageText(() => validateStackName(bad))).toContain(`1 to ${MAX_STACK_NAME_LENGTH}`);
    }
  });

  it('allowed Scalr hosts: host names and wildcards, no scheme or path', () => {
    expect(validateAllowedHost('ACME.scalr.io')).toBe('acme.scalr.io');
    expect(validateAllowedHost('*.scalr.io')).toBe('*.scalr.io');
    for (const bad of ['https://acme.scalr.io/x', 'acme.scalr.io/x', 'acme', '*']) expect(usageText(() => validateAllowedHost(bad))).toContain('no scheme, no path');
  });

  it('policy ARNs: AWS managed and customer managed pass; anything else is refused with an example', () => {
    expect(validatePolicyArn('arn:aws:iam::aws:policy/ReadOnlyAccess')).toBeTruthy();
    expect(validatePolicyArn('arn:aws:iam::123456789012:policy/team/terraform')).toBeTruthy();
    for (const bad of ['nope', 'arn:aws:iam::123:policy/x', 'arn:aws:iam::aws:role/x']) expect(usageText(() => validatePolicyArn(bad))).toContain('arn:aws:iam::aws:policy/ReadOnlyAccess');
  });
});

describe('validateSettings', () => {
  it('passes the defaults and stops at the first bad setting', () => {
    expect(validateSettings({ ...DEFAULT_SETTINGS })).toEqual(DEFAULT_SETTINGS);
    expect(() => validateSettings({ ...DEFAULT_SETTINGS, cpu: 2048 })).toThrow(/--memory 2048 is not valid with --cpu 2048/);
    expect(() => validateSettings({ ...DEFAULT_SETTINGS, taskPolicyArns: ['nope'] })).toThrow(UsageError);
  });
});

describe('a number flag followed by another option', () => {
  it('says the value is missing instead of calling the option a bad number', async () => {
    const { parseInteger } = await import('../../src/settings.js');
    expect(() => parseInteger('--memory', '--json')).toThrow(/--memory needs a value, but the next word is the option --json/);
  });
});
