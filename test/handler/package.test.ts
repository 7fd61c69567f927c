import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLambdaZip } from '../../lambda-src/build/zip-package.js';
import { HANDLER_ENV, HANDLER_ENTRY } from '../../lambda-src/contract.js';
import { LAMBDA_ZIP, proxyEvent, runHandlerInChild, unpackLambdaZip } from '../helpers/handler-fixture.js';

// The package `up` uploads: its size, its reproducible bytes, and that it loads fast and runs
// alone, unpacked in an empty folder with no node_modules, in a plain `node` process.

/** Budgets from the handler's issue. */
const ZIP_MAX_BYTES = 150 * 1024;
const COLD_IMPORT_MAX_MS = 80;

let dir: string;
let scratch: string;
const sha256 = async (file: string) => createHash('sha256').update(await readFile(file)).digest('hex');

beforeAll(async () => {
  dir = await unpackLambdaZip();
  scratch = await mkdtemp(join(tmpdir(), 'scalr-lambda-zip-'));
});
afterAll(async () => {
  await Promise.all([dir, scratch].filter(Boolean).map((d) => rm(d, { recursive: true, force: true })));
});

describe('dist/lambda.zip', () => {
  it(`is at most ${ZIP_MAX_BYTES / 1024} KiB and holds the handler entry at its root`, async () => {
    expect((await stat(LAMBDA_ZIP)).size).toBeLessThanOrEqual(ZIP_MAX_BYTES);
    const [file] = HANDLER_ENTRY.split('.');
    expect(await readdir(dir)).toContain(`${file}.mjs`);
  });

  it('is byte-for-byte what zipping its own files gives again, whatever their mtimes', async () => {
    // Given the unpacked files with fresh, different mtimes.
    const files = await readdir(dir);
    for (const [i, file] of files.entries()) await utimes(join(dir, file), new Date(), new Date(Date.now() - i * 3_600_000));
    // When they are zipped twice, with the mtimes changed again in between.
    await buildLambdaZip(dir, join(scratch, 'a.zip'));
    for (const file of files) await utimes(join(dir, file), new Date(0), new Date(86_400_000));
    await buildLambdaZip(dir, join(scratch, 'b.zip'));
    // Then both zips and the built package are the same bytes.
    const built = await sha256(LAMBDA_ZIP);
    expect(await sha256(join(scratch, 'a.zip'))).toBe(built);
    expect(await sha256(join(scratch, 'b.zip'))).toBe(built);
  });

  it(`runs alone in an empty folder and loads in at most ${COLD_IMPORT_MAX_MS} ms`, async () => {
    const env = {
      AWS_REGION: 'us-east-1',
      [HANDLER_ENV.cluster]: 'agents',
      [HANDLER_ENV.taskDefinition]: 'agent:1',
      [HANDLER_ENV.container]: 'scalr-agent',
      [HANDLER_ENV.subnets]: 'subnet-a',
      [HANDLER_ENV.securityGroups]: 'sg-1',
    };
    // A delivery that is rejected before any AWS call, so no endpoint is needed. The budget is
    // checked on the import's CPU time, best of three: wall time on a test machine that also runs
    // moto and other suites doubles at random (measured: 37 ms quiet, up to 87 ms loaded, while
    // CPU time stayed at 37-43 ms), and it is the work of loading that this test guards.
    const event = proxyEvent({ headers: { 'X-Scalr-Url': 'http://acme.scalr.io' } });
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await runHandlerInChild(dir, env, event));
    expect(runs.map((run) => run.statusCode)).toEqual([400, 400, 400]);
    expect(runs[0].body).toEqual({ error: 'X-Scalr-Url must use https' });
    expect(Math.min(...runs.map((run) => run.importCpuMs))).toBeLessThanOrEqual(COLD_IMPORT_MAX_MS);
  });
});
