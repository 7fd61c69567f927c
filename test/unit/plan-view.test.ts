import { describe, expect, it } from 'vitest';
import { renderPlan } from '../../src/cli/commands/plan-view.js';
import type { Plan, PlanStep } from '../../src/engine/plan.js';
import { UNKNOWN } from '../../src/engine/graph.js';

function step(overrides: Partial<PlanStep>): PlanStep {
  return { key: 'k', kind: 'k', label: 'Thing', name: 'n', action: 'noop', reason: 'no change', changes: [], ...overrides };
}

describe('renderPlan', () => {
  it('says an up-to-date stack is up to date', () => {
    const plan: Plan = { steps: [step({ key: 'a' }), step({ key: 'b' })] };
    expect(renderPlan(plan, 'prod')).toMatch(/Stack prod is up to date: no changes\./);
  });

  it('shows each action, the prop changes of an update, and a count summary', () => {
    const plan: Plan = {
      steps: [
        step({ key: 'vpc', label: 'VPC', name: 'v', action: 'create', reason: 'new' }),
        step({ key: 'td', label: 'Task Definition', name: 'agent', action: 'update', reason: 'cpu, memory changed', changes: [{ prop: 'cpu', from: 1024, to: 2048 }, { prop: 'memory', from: 2048, to: 4096 }] }),
        step({ key: 'fn', label: 'Lambda Function', name: 'webhook', action: 'update', reason: 'environment changed', changes: [{ prop: 'environment', from: { A: '1', TD: 'arn:td:1' }, to: { A: '1', TD: UNKNOWN } }] }),
        step({ key: 'old', label: 'Log Group', name: 'gone', action: 'delete', reason: 'no longer in the stack' }),
        step({ key: 'r', label: 'IAM Role', name: 'role', action: 'replace', reason: 'name changed' }),
        step({ key: 'same', label: 'ECS Cluster', name: 'c' }),
      ],
    };
    const text = renderPlan(plan, 'prod');
    expect(text).toContain('VPC v: create (new)');
    expect(text).toContain('Task Definition agent: update (cpu, memory changed)');
    expect(text).toContain('cpu: 1024 -> 2048');
    expect(text).toContain('memory: 2048 -> 4096');
    // Only the environment key that differs is shown, and a value not known yet says so.
    expect(text).toContain(`environment.TD: arn:td:1 -> ${UNKNOWN}`);
    expect(text).not.toContain('environment.A');
    expect(text).toContain('Log Group gone: delete');
    expect(text).toContain('IAM Role role: replace');
    expect(text).toContain('ECS Cluster c: no change');
    expect(text).toMatch(/1 to create, 0 to adopt, 2 to update, 1 to replace, 1 to delete, 1 unchanged/);
  });

  it('compact form leaves unchanged resources and prop details out', () => {
    const plan: Plan = { steps: [step({ key: 'same', name: 'unchanged-one' }), step({ key: 'td', name: 'agent', action: 'update', reason: 'cpu changed', changes: [{ prop: 'cpu', from: 1, to: 2 }] })] };
    const text = renderPlan(plan, 'prod', { compact: true });
    expect(text).not.toContain('unchanged-one');
    expect(text).not.toContain('cpu: 1 -> 2');
    expect(text).toContain('agent: update (cpu changed)');
  });

  it('never prints a whole Lambda zip hash, only that the code changed', () => {
    const plan: Plan = { steps: [step({ action: 'update', reason: 'code changed', changes: [{ prop: 'codeSha256', from: 'AAAA', to: 'BBBB' }] })] };
    const text = renderPlan(plan, 'prod');
    expect(text).toContain('codeSha256: changed');
    expect(text).not.toContain('BBBB');
  });
});
