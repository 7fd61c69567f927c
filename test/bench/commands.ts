import type { FaultProxy, ProxyCall } from '../helpers/fault-proxy.js';
import type { CliRun } from '../helpers/cli.js';
import { durationSum, longestPath, sequentialDepth, unattributed } from './calls.js';
import type { Replay, StepCost } from './replay.js';

/** One CLI command as the bench saw it: wall time from spawn to exit, and every AWS call it made. */
export interface CommandResult {
  wallMs: number;
  calls: ProxyCall[];
  sumMs: number;
  /** From spawn to the first AWS call arriving: node start, module loading, state file, credentials. */
  beforeFirstCallMs: number;
  /** From the last call's answer to the process's exit. */
  afterLastCallMs: number;
}

/** The critical-path bound of a command: the fewest sequential calls its dependencies allow. */
export interface Bound {
  /** Sequential calls on the longest chain, in total. */
  calls: number;
  boundMs: number;
  /** Calls outside the resource steps (credentials, AZs, outputs, task stops), by their measured depth. */
  outsideGraph: { calls: string[]; depth: number };
  /** The deepest read phase: finds from empty for `up`, reads by id for `down`. */
  observeDepth: number;
  /** The longest chain of dependent create (or delete) steps, weighted by each step's depth. */
  graphDepth: number;
  path: string[];
}

/** Runs one CLI command and collects the calls the proxy saw meanwhile. Throws when it fails. */
export async function measureCommand(proxy: FaultProxy, run: () => Promise<CliRun>): Promise<CommandResult> {
  const mark = proxy.calls().length;
  const started = Date.now();
  const result = await run();
  const ended = Date.now();
  const wallMs = ended - started;
  if (result.code !== 0) throw new Error(`CLI exited with ${result.code}:\n${result.stderr}\n${result.stdout}`);
  const calls = proxy.calls().slice(mark);
  const firstStart = Math.min(...calls.map((call) => call.startedAt));
  const lastEnd = Math.max(...calls.map((call) => call.startedAt + call.durationMs));
  return { wallMs, calls, sumMs: durationSum(calls), beforeFirstCallMs: firstStart - started, afterLastCallMs: ended - lastEnd };
}

/**
 * The bound of `up` from empty or `down` of the full stack. Resource steps weigh what they made when run
 * alone (replay.ts); `up`'s steps follow the stack's refs, `down`'s the same edges reversed. Lookups
 * from empty touch only ref-free resources and reads by id need nothing else, so each read phase
 * weighs its deepest single step. Calls the command made outside any step keep the depth they had.
 */
export function boundOf(command: CommandResult, replay: Replay, which: 'up' | 'down', latencyMs: number): Bound {
  const [observe, steps] = which === 'up' ? [replay.find, replay.create] : [replay.read, replay.delete];
  const attributed = [...observe, ...steps].flatMap((step) => step.calls);
  const outside = unattributed(command.calls, attributed);
  const depth = new Map(steps.map((step: StepCost) => [step.key, step.depth]));
  const dependents = (key: string) => replay.order.filter((other) => replay.dependencies(other).includes(key));
  const graph = longestPath(replay.order, which === 'up' ? replay.dependencies : dependents, (key) => depth.get(key) ?? 0);
  const observeDepth = Math.max(0, ...observe.map((step) => step.depth));
  const outsideDepth = sequentialDepth(outside);
  const calls = outsideDepth + observeDepth + graph.length;
  return {
    calls,
    boundMs: calls * latencyMs,
    outsideGraph: { calls: outside.map((call) => `${call.service}:${call.action}`), depth: outsideDepth },
    observeDepth,
    graphDepth: graph.length,
    path: which === 'up' ? graph.path : [...graph.path].reverse(),
  };
}
