import type { Created, Props, ResourceContext, ResourceKind } from '../../src/resources/contract.js';
import type { AwsClients } from '../../src/aws/clients.js';

/** One call a fake kind received, with when it started and ended (for ordering and overlap checks). */
export interface FakeCall {
  method: 'create' | 'update' | 'delete' | 'find' | 'read';
  name: string;
  id?: string;
  props?: Props;
  startedAt: number;
  endedAt?: number;
}

/** An in-memory "cloud" of named things, with hooks to delay or fail a given resource's calls. */
export interface FakeCloud {
  things: Map<string, { name: string; props: Props }>;
  calls: FakeCall[];
  /** Makes the next `method` call on `name` throw `error`. */
  failNext(method: FakeCall['method'], name: string, error: Error): void;
  /** Called when a create/update/delete starts, before it takes effect (lets a test inspect the state file). */
  onStart?: (call: FakeCall) => void | Promise<void>;
  kind: ResourceKind;
  /** A kind without `update`: every change replaces it. */
  immutableKind: ResourceKind;
}

/** How long every fake call takes, so independent calls visibly overlap. */
export const FAKE_CALL_MS = 15;

/** A ResourceContext with no clients; fake kinds never touch AWS. */
export const fakeContext: ResourceContext = {
  clients: {} as AwsClients,
  stack: 'unit',
  region: 'us-east-1',
  accountId: '123456789012',
  tags: {},
  waiting: () => {},
};

/**
 * Two fake kinds over one in-memory store. A thing's id is `<name>#<generation>`, so a recreated thing
 * gets a new id and the engine must pass it on to whatever references it. Props must be plain values;
 * `name` identifies a thing for `find` (as a deterministic AWS name would).
 */
export function fakeCloud(): FakeCloud {
  const things = new Map<string, { name: string; props: Props }>();
  const calls: FakeCall[] = [];
  const failures: { method: FakeCall['method']; name: string; error: Error }[] = [];
  let generation = 0;
  const cloud = {
    things,
    calls,
    failNext: (method: FakeCall['method'], name: string, error: Error) => void failures.push({ method, name, error }),
  } as Omit<FakeCloud, 'kind' | 'immutableKind'> as FakeCloud;

  const step = async <T>(method: FakeCall['method'], name: string, id: string | undefined, props: Props | undefined, effect: () => T): Promise<T> => {
    const call: FakeCall = { method, name, id, props, startedAt: performance.now() };
    calls.push(call);
    if (method !== 'find' && method !== 'read') await cloud.onStart?.(call);
    await new Promise((resolve) => setTimeout(resolve, FAKE_CALL_MS));
    call.endedAt = performance.now();
    const failure = failures.findIndex((f) => f.method === method && f.name === name);
    if (failure >= 0) throw failures.splice(failure, 1)[0].error;
    return effect();
  };
  const created = (id: string, props: Props): Created => ({ id, outputs: { id, name: String(props.name), arn: `arn:fake:${id}` } });
  const make = (kind: string, withUpdate: boolean): ResourceKind => ({
    kind,
    label: 'Thing',
    replaceOn: ['name'],
    find: (_ctx, props) =>
      step('find', String(props.name), undefined, props, () => {
        const hit = [...things].find(([, thing]) => thing.name === props.name);
        return hit ? created(hit[0], hit[1].props) : undefined;
      }),
    create: (_ctx, props) =>
      step('create', String(props.name), undefined, props, () => {
        const id = `${props.name}#${++generation}`;
        things.set(id, { name: String(props.name), props });
        return created(id, props);
      }),
    read: (_ctx, id, props) =>
      step('read', String(props.name), id, props, () => {
        const thing = things.get(id);
        return thing ? { outputs: created(id, thing.props).outputs, props: thing.props } : undefined;
      }),
    update: withUpdate
      ? (_ctx, id, props) =>
          step('update', String(props.name), id, props, () => {
            things.set(id, { name: String(props.name), props });
            return created(id, props);
          })
      : undefined,
    delete: (_ctx, id, props) => step('delete', String(props.name ?? id), id, props, () => void things.delete(id)),
  });
  cloud.kind = make('fake.thing', true);
  cloud.immutableKind = make('fake.immutable', false);
  return cloud;
}
