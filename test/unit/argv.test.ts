import { describe, expect, it } from 'vitest';
import { commonOptionsAfterCommand } from '../../src/cli/main.js';

const argv = (...args: string[]) => ['node', 'scalr-serverless', ...args];

describe('common options before the command, as Terraform and the AWS CLI allow', () => {
  it('moves value and flag options written before the command to after it', () => {
    expect(commonOptionsAfterCommand(argv('--stack', 'prod', '--json', 'up', '--cpu', '2048'))).toEqual(argv('up', '--stack', 'prod', '--json', '--cpu', '2048'));
    expect(commonOptionsAfterCommand(argv('--region=eu-west-1', 'status'))).toEqual(argv('status', '--region=eu-west-1'));
  });

  it('puts them after the pool subcommand, before its argument', () => {
    expect(commonOptionsAfterCommand(argv('--stack', 'a', 'pool', 'attach', 'apool-1'))).toEqual(argv('pool', 'attach', '--stack', 'a', 'apool-1'));
  });

  it('leaves everything else as written: no leading options, --help, or options with no command', () => {
    expect(commonOptionsAfterCommand(argv('up', '--stack', 'x'))).toEqual(argv('up', '--stack', 'x'));
    expect(commonOptionsAfterCommand(argv('--help'))).toEqual(argv('--help'));
    expect(commonOptionsAfterCommand(argv('--json'))).toEqual(argv('--json'));
  });
});
