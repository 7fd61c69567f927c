/**
 * `npm run bench`: moto behind the fault proxy with a fixed latency per AWS call, then `up` from empty,
 * a no-op `up` and `down` through the built CLI, CLI start-up, the Lambda package and the warm handler.
 * Prints every figure beside its target (the README's Benchmark section explains each method). Reports, never
 * fails on a missed target; exits non-zero only when something errors.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMoto, type MotoServer } from '../helpers/moto.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { runCli } from '../helpers/cli.js';
import { stackNames } from '../../src/stack.js';
import { replayStack } from './replay.js';
import { measureCommand, boundOf, type CommandResult, type Bound } from './commands.js';
import { measurePackage, measureStartup, ZIP_PATH } from './startup.js';
import { measureHandler } from './handler.js';
import { warmMoto } from './warm-moto.js';
import { renderTable, ms, times, type Row } from './report.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.AWS_ACCESS_KEY_ID ??= 'testing';
process.env.AWS_SECRET_ACCESS_KEY ??= 'testing';

const TARGETS = { upVsBound: 1.3, upVsSum: 0.35, noopWrites: 0, helpVsNode: 1.5, zipKiB: 150, coldLoadMs: 80 };
const STACK = 'bench';

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  if (index < 0) return fallback;
  const value = Number(process.argv[index + 1]);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} needs a number, got ${process.argv[index + 1]}`);
  return value;
}

async function main(): Promise<void> {
  const latencyMs = option('latency-ms', 100);
  const runs = option('runs', 9);
  const deliveries = option('deliveries', 20);
  const json = process.argv.includes('--json');
  const progress = (message: string) => process.stderr.write(`bench: ${message}\n`);

  let moto: MotoServer | undefined;
  let proxy: FaultProxy | undefined;
  const cwd = await mkdtemp(join(tmpdir(), 'scalr-serverless-bench-'));
  try {
    moto = await startMoto();
    proxy = await startFaultProxy({ target: moto.endpoint, latencyMs });
    const cli = (args: string[]) => runCli([...args, '--stack', STACK, '--json'], { cwd, env: { ...moto!.env, AWS_ENDPOINT_URL: proxy!.url } });

    await warmMoto(moto.endpoint);
    progress(`attributing calls: each resource's find, create, read and delete alone (${latencyMs} ms per call)`);
    const replay = await replayStack(proxy, STACK, ZIP_PATH);
    await moto.reset();
    await warmMoto(moto.endpoint);

    progress('up from empty');
    const up = await measureCommand(proxy, () => cli(['up']));
    const upBound = boundOf(up, replay, 'up', latencyMs);
    progress('no-op up');
    const noop = await measureCommand(proxy, () => cli(['up']));
    progress('down');
    const down = await measureCommand(proxy, () => cli(['down', '--yes']));
    const downBound = boundOf(down, replay, 'down', latencyMs);

    progress(`CLI start-up and the handler's cold load (${runs} runs each)`);
    const startup = await measureStartup(runs);
    const pkg = await measurePackage(runs);

    progress(`warm handler: ${deliveries} deliveries against moto (no added latency)`);
    await moto.reset();
    await warmMoto(moto.endpoint);
    proxy.latencyMs = 0;
    const setup = await cli(['up']);
    if (setup.code !== 0) throw new Error(`up for the handler bench failed: ${setup.stderr}`);
    const handler = await measureHandler(proxy, stackNames(STACK).functionName, pkg.dir, deliveries);
    await rm(pkg.dir, { recursive: true, force: true });

    const rows = table({ latencyMs, up, upBound, noop, down, downBound, startup, pkg, handler });
    if (json) {
      const document = { latencyMs, targets: TARGETS, up: { ...summary(up), bound: upBound }, noop: summary(noop), down: { ...summary(down), bound: downBound }, startup, package: { ...pkg, dir: undefined }, handler, replay: { order: replay.order, find: replay.find, create: replay.create, read: replay.read, delete: replay.delete }, rows };
      process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
    } else {
      process.stdout.write(`${renderTable(rows)}\n`);
      process.stdout.write(`\ncritical path of up: ${upBound.path.join(' -> ')}\ncritical path of down: ${downBound.path.join(' -> ')}\n`);
    }
  } finally {
    await proxy?.close();
    await moto?.stop();
    await rm(cwd, { recursive: true, force: true });
  }
}

function summary(result: CommandResult) {
  const { calls, ...rest } = result;
  const origin = calls[0]?.startedAt ?? 0;
  // The trace: [ms since the first call, duration, service:action] per call, to see what overlapped.
  const trace = calls.map((c) => [c.startedAt - origin, c.durationMs, `${c.service}:${c.action}${c.write ? '*' : ''}`]);
  return { ...rest, calls: calls.length, reads: calls.filter((c) => !c.write).length, writes: calls.filter((c) => c.write).length, trace };
}

interface Figures {
  latencyMs: number;
  up: CommandResult;
  upBound: Bound;
  noop: CommandResult;
  down: CommandResult;
  downBound: Bound;
  startup: Awaited<ReturnType<typeof measureStartup>>;
  pkg: Awaited<ReturnType<typeof measurePackage>>;
  handler: Awaited<ReturnType<typeof measureHandler>>;
}

function table(f: Figures): Row[] {
  const commandRows = (name: string, result: CommandResult, bound: Bound, targets: boolean): Row[] => {
    const vsBound = result.wallMs / bound.boundMs;
    const vsSum = result.wallMs / result.sumMs;
    return [
      { figure: `${name}: wall time`, value: ms(result.wallMs), target: targets ? `<= ${TARGETS.upVsBound}x bound` : '(reported)', ratio: times(vsBound), ok: targets ? vsBound <= TARGETS.upVsBound : undefined },
      { figure: `${name}: AWS calls`, value: String(result.calls.length), target: '' },
      { figure: `${name}: sequential sum of call durations`, value: ms(result.sumMs), target: targets ? `wall <= ${TARGETS.upVsSum}x sum` : '(reported)', ratio: times(vsSum), ok: targets ? vsSum <= TARGETS.upVsSum : undefined },
      { figure: `${name}: critical-path bound`, value: `${ms(bound.boundMs)} (${bound.calls} calls)`, target: '' },
      { figure: `${name}: spawn to first AWS call`, value: ms(result.beforeFirstCallMs), target: '(reported)' },
    ];
  };
  const noopWrites = f.noop.calls.filter((c) => c.write);
  const helpRatio = f.startup.helpMs / f.startup.bareNodeMs;
  const zipKiB = f.pkg.zipBytes / 1024;
  return [
    ...commandRows('up from empty', f.up, f.upBound, true),
    { figure: 'no-op up: reads', value: String(f.noop.calls.length - noopWrites.length), target: '' },
    { figure: 'no-op up: writes', value: String(noopWrites.length) + (noopWrites.length ? ` (${noopWrites.map((c) => c.action).join(', ')})` : ''), target: '0', ok: noopWrites.length === TARGETS.noopWrites },
    { figure: 'no-op up: wall time', value: ms(f.noop.wallMs), target: '(reported)' },
    ...commandRows('down', f.down, f.downBound, false),
    { figure: `--help start-up (median of ${f.startup.runs})`, value: `${ms(f.startup.helpMs)} vs node -e 0 ${ms(f.startup.bareNodeMs)}`, target: `<= ${TARGETS.helpVsNode}x node`, ratio: times(helpRatio), ok: helpRatio <= TARGETS.helpVsNode },
    { figure: '--help: heavy packages loaded statically', value: f.startup.heavyStaticPackages.join(', ') || 'none', target: 'none', ok: f.startup.heavyStaticPackages.length === 0 },
    { figure: 'dist/lambda.zip size', value: `${zipKiB.toFixed(1)} KiB`, target: `<= ${TARGETS.zipKiB} KiB`, ratio: times(zipKiB / TARGETS.zipKiB), ok: zipKiB <= TARGETS.zipKiB },
    { figure: `handler cold module load (median of ${f.pkg.runs})`, value: `${ms(f.pkg.coldLoadMs)} (import() alone ${ms(f.pkg.inProcessLoadMs)})`, target: `<= ${TARGETS.coldLoadMs} ms`, ratio: times(f.pkg.coldLoadMs / TARGETS.coldLoadMs), ok: f.pkg.coldLoadMs <= TARGETS.coldLoadMs },
    { figure: `handler per delivery, warm (median of ${f.handler.deliveries - 1})`, value: `${ms(f.handler.warmMs)} (first ${ms(f.handler.firstMs)}, ${f.handler.callsPerDelivery} ECS calls each)`, target: '(reported)' },
  ];
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
