import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { access, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMoto, type MotoServer } from '../helpers/moto.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { runCli, type CliRun } from '../helpers/cli.js';
import { remainingStackResources } from '../helpers/inspect-stack.js';
import { recordedIds, stackProblems } from '../helpers/stack-checks.js';

/**
 * SIGKILL the CLI after the n-th AWS write (the write is done in moto, its answer never reaches the
 * CLI), then run the same command again: it must converge. Kill points are spread across a whole `up`
 * (the first write, the last, and the phases between: network, IAM, Lambda, API Gateway wiring) and a
 * whole `down`; each `up` case is followed by a `down` case, so both halves cost one stack each.
 */
const STACK = 'kill';
const CASE_TIMEOUT_MS = 60_000;
const EXHAUSTIVE_MAX_WRITES = 45;

describe('a killed up or down converges when run again', () => {
  let moto: MotoServer;
  let proxy: FaultProxy;
  let upWrites = 0;
  let downWrites = 0;

  beforeAll(async () => {
    moto = await startMoto();
    proxy = await startFaultProxy({ target: moto.endpoint });
  });
  afterAll(async () => {
    await proxy?.close();
    await moto?.stop();
  });

  const cli = (cwd: string, args: string[], killAfter?: number): Promise<CliRun> =>
    runCli([...args, '--stack', STACK], {
      cwd,
      env: { ...moto.env, AWS_ENDPOINT_URL: proxy.url, SCALR_SERVERLESS_RETRY_SCALE: '0.01' },
      onSpawn: killAfter === undefined ? undefined : (pid) => void proxy.killAfterWrite(killAfter, pid),
    });
  const writesOf = () => proxy.calls().filter((call) => call.write && !call.injected).length;

  it('counts the writes of a clean up and a clean down (the kill points are chosen from these)', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'scalr-serverless-kill-'));
    proxy.reset();
    const run = await cli(cwd, ['up']);
    expect(run.code, run.stderr).toBe(0);
    upWrites = writesOf();
    expect((await stackProblems(moto.endpoint, STACK)).problems).toEqual([]);
    proxy.reset();
    const gone = await cli(cwd, ['down', '--yes']);
    expect(gone.code, gone.stderr).toBe(0);
    downWrites = writesOf();
    expect(await remainingStackResources(moto.endpoint, STACK)).toEqual([]);
    // A stack of ~20 resources takes dozens of writes; a tiny count would mean the proxy sees nothing.
    expect(upWrites).toBeGreaterThan(25);
    expect(downWrites).toBeGreaterThan(15);
  }, CASE_TIMEOUT_MS);

  // [kill up after write n, kill down after write m]; 'last' is the final write of the clean run.
  // RECOVERY_KILL_ALL=1 tries every write of up (and of down) instead: slow, for hunting new faults.
  const every = Array.from({ length: EXHAUSTIVE_MAX_WRITES }, (_, i) => i + 1);
  const cases: [number | 'last', number | 'last' | undefined][] = process.env.RECOVERY_KILL_ALL
    ? every.map((n) => [n, n])
    : [
        [1, 'last'],
        [2, 1],
        [5, 3],
        [10, 8],
        [15, 12],
        [20, 16],
        [25, 20],
        [30, 24],
        ['last', undefined],
      ];

  for (const [upKill, downKill] of cases) {
    it(`up killed after write ${upKill}, then up; down killed after write ${downKill ?? '(none)'}, then down`, async (test) => {
      if (upKill !== 'last' && upKill > upWrites) return test.skip();
      // given: a fresh account and working directory, and an up killed after the chosen write
      await moto.reset();
      proxy.reset();
      const cwd = await mkdtemp(join(tmpdir(), 'scalr-serverless-kill-'));
      const n = upKill === 'last' ? upWrites : upKill;
      const killed = await cli(cwd, ['up'], n);
      expect(killed.signal, `up was not killed after write ${n}:\n${killed.stderr}`).toBe('SIGKILL');

      // when: up runs again
      const again = await cli(cwd, ['up']);

      // then: one complete, correctly wired stack, and the state file names exactly its resources
      expect(again.code, again.stderr).toBe(0);
      const { problems, ids } = await stackProblems(moto.endpoint, STACK);
      expect(problems).toEqual([]);
      const recorded = await recordedIds(join(cwd, '.scalr-serverless', `${STACK}.json`));
      expect(recorded).toMatchObject({
        vpc: ids.vpcId,
        internetGateway: ids.internetGatewayId,
        routeTable: ids.routeTableId,
        securityGroup: ids.securityGroupId,
        restApi: ids.restApiId,
        apiKey: ids.apiKeyId,
        usagePlan: ids.usagePlanId,
      });
      expect([recorded.subnetA, recorded.subnetB].sort()).toEqual(ids.subnetIds);

      // and: a down killed after the chosen write, then down again, leaves nothing
      if (downKill !== undefined && (downKill === 'last' || downKill <= downWrites)) {
        const m = downKill === 'last' ? downWrites : downKill;
        const cut = await cli(cwd, ['down', '--yes'], m);
        expect(cut.signal, `down was not killed after write ${m}:\n${cut.stderr}`).toBe('SIGKILL');
      }
      const down = await cli(cwd, ['down', '--yes']);
      expect(down.code, down.stderr).toBe(0);
      expect(await remainingStackResources(moto.endpoint, STACK)).toEqual([]);
      await expect(access(join(cwd, '.scalr-serverless', `${STACK}.json`))).rejects.toThrow();
    }, CASE_TIMEOUT_MS);
  }
});
