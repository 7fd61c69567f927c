import type { PlainValue, Props, Ref } from '../resources/contract.js';
import { InternalError } from '../errors.js';

/** Refs joined into one string once known (a Lambda environment value listing subnet ids). */
export interface Join {
  readonly $join: DesiredValue[];
  readonly separator: string;
}

/** A prop value as written in the desired stack: plain JSON, possibly holding refs and joins. */
export type DesiredValue = PlainValue | Ref | Join | DesiredValue[] | { [key: string]: DesiredValue };

/** Joins values (refs among them) into one string, e.g. `join([ref('subnetA'), ref('subnetB')], ',')`. */
export function join(values: DesiredValue[], separator = ','): Join {
  return { $join: values, separator };
}

function isJoin(value: unknown): value is Join {
  return typeof value === 'object' && value !== null && Array.isArray((value as Join).$join);
}

/** One resource the stack wants: where it sits in the graph, its kind, its name for messages, its props. */
export interface DesiredResource {
  key: string;
  kind: string;
  /** The AWS name shown in messages (`creating VPC (scalr-serverless-default-vpc)`). */
  name: string;
  props: { [key: string]: DesiredValue };
}

/** Placeholder for a value that only exists once an upstream step has run. */
export const UNKNOWN = '(known after apply)';

export function isRef(value: unknown): value is Ref {
  return typeof value === 'object' && value !== null && typeof (value as Ref).$ref === 'string';
}

/** Keys of the resources that `props` reference, deduplicated, in order of appearance. */
export function dependenciesOf(props: DesiredValue): string[] {
  const found = new Set<string>();
  const visit = (value: DesiredValue): void => {
    if (isRef(value)) found.add(value.$ref);
    else if (isJoin(value)) value.$join.forEach(visit);
    else if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === 'object') Object.values(value).forEach(visit);
  };
  visit(props);
  return [...found];
}

/**
 * Replaces every ref with the output it names. `outputsOf(key)` returns undefined when that resource's
 * outputs are not known yet (it is about to be created); those refs resolve to UNKNOWN.
 */
export function resolveProps(
  props: { [key: string]: DesiredValue },
  outputsOf: (key: string) => Record<string, string | string[]> | undefined,
): { props: Props; unknown: boolean } {
  let unknown = false;
  const visit = (value: DesiredValue): PlainValue => {
    if (isRef(value)) {
      const outputs = outputsOf(value.$ref);
      const output = outputs?.[value.output];
      if (output === undefined) {
        unknown = true;
        return UNKNOWN;
      }
      return output;
    }
    if (isJoin(value)) {
      const parts = value.$join.map(visit);
      return parts.includes(UNKNOWN) ? UNKNOWN : parts.flat().join(value.separator);
    }
    if (Array.isArray(value)) return value.map(visit);
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, visit(v)]));
    }
    return value;
  };
  return { props: visit(props) as Props, unknown };
}

/**
 * Orders resources so that each comes after everything it references. A missing reference or a
 * cycle is a bug in the stack definition; the error names it.
 */
export function topologicalOrder(dependencies: Map<string, string[]>): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (key: string, path: string[]): void => {
    const seen = state.get(key);
    if (seen === 'done') return;
    if (seen === 'visiting') {
      const cycle = [...path.slice(path.indexOf(key)), key].join(' -> ');
      throw new InternalError(`the stack's resources reference each other in a cycle: ${cycle}`);
    }
    const deps = dependencies.get(key);
    if (!deps) throw new InternalError(`resource ${path.at(-1)} references unknown resource ${key}`);
    state.set(key, 'visiting');
    for (const dep of deps) visit(dep, [...path, key]);
    state.set(key, 'done');
    order.push(key);
  };
  for (const key of dependencies.keys()) visit(key, []);
  return order;
}

/** Stable JSON (sorted object keys) for comparing props. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}
