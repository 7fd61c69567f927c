import type { Plan } from '../../engine/plan.js';
import { summarize } from '../../engine/plan.js';
import { UNKNOWN } from '../../engine/graph.js';

const SYMBOLS = { create: '+', adopt: '&', update: '~', replace: '-/+', delete: '-', noop: ' ' } as const;

function short(value: unknown): string {
  if (value === undefined) return '(none)';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  if (text === UNKNOWN) return text;
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The plan as text: one line per resource with its action, and what differs for updates. */
export function renderPlan(plan: Plan, stack: string, options: { compact?: boolean } = {}): string {
  const counts = summarize(plan.steps);
  const lines: string[] = [];
  for (const step of plan.steps) {
    if (step.action === 'noop' && options.compact) continue;
    const action = step.action === 'noop' ? 'no change' : step.action;
    lines.push(`${SYMBOLS[step.action].padStart(3)} ${step.label} ${step.name}: ${action}${step.action === 'noop' ? '' : ` (${step.reason})`}`);
    if (!options.compact) {
      for (const change of step.changes) {
        if (change.prop === 'codeSha256' || change.prop === 'zipPath') {
          lines.push(`      ${change.prop}: changed`);
        } else if (isRecord(change.from) && isRecord(change.to)) {
          // Show only the keys that differ (the handler's environment has seven; one changes).
          for (const key of new Set([...Object.keys(change.from), ...Object.keys(change.to)])) {
            const from = change.from[key];
            const to = change.to[key];
            if (JSON.stringify(from) !== JSON.stringify(to)) lines.push(`      ${change.prop}.${key}: ${short(from)} -> ${short(to)}`);
          }
        } else {
          lines.push(`      ${change.prop}: ${short(change.from)} -> ${short(change.to)}`);
        }
      }
    }
  }
  const changed = plan.steps.length - counts.noop;
  const summary =
    changed === 0
      ? `Stack ${stack} is up to date: no changes.`
      : `Plan for stack ${stack}: ${counts.create} to create, ${counts.adopt} to adopt, ${counts.update} to update, ${counts.replace} to replace, ${counts.delete} to delete, ${counts.noop} unchanged.`;
  return [...lines, summary].join('\n');
}
