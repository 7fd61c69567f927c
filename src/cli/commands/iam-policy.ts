import { operatorPolicy } from '../../iam-policy.js';
import { partitionOf } from '../../stack.js';
import { validateRegion } from '../../settings.js';
import { UsageError } from '../../errors.js';
import type { Io } from '../output.js';

/** `iam-policy` options: narrow the ARNs to one region and account when given. */
export interface IamPolicyOptions {
  region?: string;
  accountId?: string;
}

/** Prints the least-privilege policy for running scalr-serverless; calls nothing. */
export async function iamPolicy(options: IamPolicyOptions, io: Io) {
  if (options.accountId !== undefined && !/^\d{12}$/.test(options.accountId)) {
    throw new UsageError(`invalid --account-id "${options.accountId}"`, 'use the 12-digit AWS account id');
  }
  const region = options.region === undefined ? undefined : validateRegion(options.region);
  const policy = operatorPolicy({ region, accountId: options.accountId, partition: region ? partitionOf(region) : 'aws' });
  // The policy is JSON either way: it is meant to be piped into `aws iam create-policy`.
  io.stdout.write(`${JSON.stringify(policy, null, 2)}\n`);
  return policy;
}
