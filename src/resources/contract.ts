import type { AwsClients } from '../aws/clients.js';

/**
 * The one contract every AWS resource kind implements (one file per kind in this folder).
 *
 * Props are plain JSON. A prop that needs another resource's output holds a `ref(key, output)`;
 * the engine resolves refs before calling any method here, so a kind only ever sees plain values,
 * and the engine derives the dependency graph from the refs (nobody keeps a dependency list).
 */
export type PlainValue = string | number | boolean | null | PlainValue[] | { [key: string]: PlainValue };
export type Props = { [key: string]: PlainValue };

/** What a resource hands to those that reference it. `id` is always present. */
export type Outputs = { [key: string]: string | string[] };

/** A reference to output `output` of the resource at `key` in the same stack. */
export interface Ref {
  readonly $ref: string;
  readonly output: string;
}

/** Builds a reference to another resource's output, e.g. `ref('vpc', 'id')`. */
export function ref(key: string, output = 'id'): Ref {
  return { $ref: key, output };
}

/** What a kind receives: clients made once, the stack identity, and a way to say it is waiting. */
export interface ResourceContext {
  clients: AwsClients;
  stack: string;
  region: string;
  accountId: string;
  /** Tags to put on everything that takes tags, at creation. */
  tags: Record<string, string>;
  /** Reports a long wait ("waiting for the IAM role to propagate, attempt 3"); never prints itself. */
  waiting(message: string): void;
  signal?: AbortSignal;
}

/** A created, found or updated resource: its physical id and its outputs. */
export interface Created {
  id: string;
  outputs: Outputs;
}

/** What `read` saw: the outputs, and the props it could observe in AWS (for drift detection). */
export interface Observed {
  outputs: Outputs;
  /** Observed values of props, by prop name; a prop missing here is compared to the recorded one. */
  props?: Partial<Props>;
}

/** One AWS resource kind. All methods are idempotent and wait until AWS has finished. */
export interface ResourceKind<P extends Props = Props> {
  /** Stable id of the kind, e.g. `ec2.vpc`; stored in the state file. */
  readonly kind: string;
  /** Human label for messages: `creating VPC (name): cause`. */
  readonly label: string;
  /** Props whose change forces delete-then-create; any other change goes to `update`. */
  readonly replaceOn: readonly string[];
  /** True when `update` hands out a new id (a new task definition revision, a new deployment). */
  readonly updateChangesId?: boolean;
  /**
   * True when `find` looks only at the resource's own name, so it can run while props that reference
   * other resources are still unknown (those resources are gone too): a usage plan whose REST API was
   * deleted must still be found, or `up` duplicates it and `down` orphans it.
   */
  readonly findsByName?: boolean;
  /** Finds an existing resource by its deterministic name or stack tag (adoption after a crash or lost state). */
  find(ctx: ResourceContext, props: P): Promise<Created | undefined>;
  /** Creates the resource and waits until usable. A create that fails leaves nothing behind. */
  create(ctx: ResourceContext, props: P): Promise<Created>;
  /** Reads the resource; `undefined` when AWS says it is gone. */
  read(ctx: ResourceContext, id: string, props: P): Promise<Observed | undefined>;
  /** Converges an existing resource to `props`; may return a new id (a task definition revision). */
  update?(ctx: ResourceContext, id: string, props: P, previous: P): Promise<Created>;
  /** Deletes and waits until gone; deleting what is already gone is success. */
  delete(ctx: ResourceContext, id: string, props: P): Promise<void>;
}
