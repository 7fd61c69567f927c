import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { operatorPolicy } from '../../src/iam-policy.js';

describe('the README', () => {
  it('shows exactly the policy `iam-policy` prints, so users copy what the CLI needs', async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const block = /<!-- iam-policy:start -->\n```json\n([\s\S]*?)\n```\n<!-- iam-policy:end -->/.exec(readme);
    expect(block, 'README has the iam-policy block').not.toBeNull();
    expect(JSON.parse(block![1])).toEqual(operatorPolicy());
  });
});
