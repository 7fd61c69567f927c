import { describe, expect, it } from 'vitest';
import { desiredStack, foreignRecords } from '../../src/stack.js';
import { DEFAULT_SETTINGS } from '../../src/settings.js';

const desired = desiredStack(
  { stack: 'prod', region: 'us-east-1', accountId: '123456789012', availabilityZones: ['us-east-1a', 'us-east-1b'] },
  DEFAULT_SETTINGS,
  { zipPath: '/x/lambda.zip', codeSha256: 'abc' },
);
const ours = {
  vpc: { kind: 'ec2.vpc', name: 'scalr-serverless-prod-vpc', id: 'vpc-1' },
  taskRole: { kind: 'iam.role', name: 'scalr-serverless-prod-task', id: 'scalr-serverless-prod-task' },
  cluster: { kind: 'ecs.cluster', name: 'scalr-serverless-prod', id: 'arn:aws:ecs:us-east-1:123456789012:cluster/scalr-serverless-prod' },
};

describe('records that are not the stack’s own (down and up delete what the state file lists)', () => {
  it('accepts the records the stack itself writes', () => {
    expect(foreignRecords(ours, desired)).toEqual([]);
  });

  it('names a record under an unknown key, of another kind, with another name, or whose id is another name', () => {
    const foreign = foreignRecords(
      {
        ...ours,
        extra: { kind: 'ec2.vpc', name: 'foreign', id: 'vpc-victim' },
        vpc: { kind: 'ec2.vpc', name: 'victim-prod', id: 'vpc-2' },
        taskRole: { kind: 'iam.role', name: 'scalr-serverless-prod-task', id: 'victim-role' },
        cluster: { kind: 'iam.role', name: 'scalr-serverless-prod', id: 'scalr-serverless-prod' },
      },
      desired,
    );
    expect(foreign).toHaveLength(4);
    expect(foreign.join('\n')).toContain('vpc-victim');
    expect(foreign.join('\n')).toContain('victim-role');
  });

  it('tells another stack’s records apart (stacks a and a-b)', () => {
    const other = { vpc: { kind: 'ec2.vpc', name: 'scalr-serverless-prod-b-vpc', id: 'vpc-9' } };
    expect(foreignRecords(other, desired)).toHaveLength(1);
  });
});
