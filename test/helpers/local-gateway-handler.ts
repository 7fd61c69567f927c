import { fork, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FunctionConfiguration, LambdaClient } from '@aws-sdk/client-lambda';
import { GetFunctionCommand } from '@aws-sdk/client-lambda';
import { extractZip } from './unzip.js';

const RUNNER_PATH = fileURLToPath(new URL('./handler-runner.mjs', import.meta.url));
const CODE_DOWNLOAD_TIMEOUT_MS = 3_000;
const INIT_TIMEOUT_MS = 10_000;
/** Lambda's default when a function has no Timeout. */
const DEFAULT_FUNCTION_TIMEOUT_S = 3;

/** How one invocation ended: the handler's result, or why the runtime failed (API Gateway answers 502). */
export type InvokeOutcome =
  | { ok: true; result: unknown }
  | { ok: false; kind: 'code' | 'init' | 'handler' | 'timeout' | 'integration-timeout' | 'crash'; reason: string };

/** Options of `HandlerHost`. */
export interface HandlerHostOptions {
  lambda: LambdaClient;
  region: string;
  /** AWS_ENDPOINT_URL the handler's own SDK clients use. */
  handlerEndpoint: string;
  /** The package zip, when the deployed code cannot be downloaded (moto's Code.Location is not served). */
  zipPath?: string;
  /** Receives every line the handler process writes to stdout/stderr. */
  onLog(line: string): void;
}

type Pending = { resolve(outcome: InvokeOutcome): void };
type Warm = { key: string; child: ChildProcess; ready: Promise<InvokeOutcome | undefined>; pending: Map<string, Pending> };

/**
 * Runs a deployed function's real code in a warm child process, as the Lambda runtime does: one
 * process per configuration (code, handler, environment), replaced when the configuration changes.
 * Invocations are serialized, like one Lambda instance handling one event at a time.
 */
export class HandlerHost {
  private root: Promise<string> = mkdtemp(join(tmpdir(), 'local-gateway-'));
  private codeDirs = new Map<string, string>();
  private warm: Warm | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: HandlerHostOptions) {}

  /** Invokes the function with `event`; `timeoutMs` is the caller's deadline (API Gateway's 29 s). */
  invoke(fn: FunctionConfiguration, event: unknown, timeoutMs: number): Promise<InvokeOutcome> {
    const run = this.queue.then(() => this.invokeNow(fn, event, timeoutMs));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Kills the warm process and removes the unpacked code. */
  async close(): Promise<void> {
    this.stop();
    await rm(await this.root, { recursive: true, force: true });
  }

  private async invokeNow(fn: FunctionConfiguration, event: unknown, timeoutMs: number): Promise<InvokeOutcome> {
    let dir: string;
    try {
      dir = await this.codeDir(fn);
    } catch (error) {
      return { ok: false, kind: 'code', reason: (error as Error).message };
    }
    const warm = this.ensureWarm(fn, dir);
    const initFailure = await warm.ready;
    if (initFailure) {
      this.stop();
      return initFailure;
    }
    const functionTimeoutMs = (fn.Timeout ?? DEFAULT_FUNCTION_TIMEOUT_S) * 1000;
    const id = randomUUID();
    const deadlineMs = Date.now() + functionTimeoutMs;
    return new Promise<InvokeOutcome>((resolve) => {
      const timer = setTimeout(() => {
        // Lambda stops a timed-out invocation's runtime; the next request starts a fresh one.
        warm.pending.delete(id);
        this.stop();
        const lambdaTimedOut = functionTimeoutMs <= timeoutMs;
        const limit = Math.min(functionTimeoutMs, timeoutMs);
        if (lambdaTimedOut) this.options.onLog(`${id} Task timed out after ${limit / 1000} seconds`);
        const kind = lambdaTimedOut ? 'timeout' : 'integration-timeout';
        resolve({ ok: false, kind, reason: `no answer within ${limit} ms` });
      }, Math.min(functionTimeoutMs, timeoutMs));
      warm.pending.set(id, {
        resolve: (outcome) => {
          clearTimeout(timer);
          resolve(outcome);
        },
      });
      warm.child.send({
        type: 'invoke',
        id,
        event,
        context: {
          awsRequestId: id,
          functionName: fn.FunctionName,
          functionVersion: fn.Version ?? '$LATEST',
          invokedFunctionArn: fn.FunctionArn,
          memoryLimitInMB: String(fn.MemorySize ?? 128),
          logGroupName: `/aws/lambda/${fn.FunctionName}`,
          logStreamName: `local/${id}`,
          deadlineMs,
        },
      });
    });
  }

  /** The unpacked code for the function's CodeSha256, checked against the bytes we run. */
  private async codeDir(fn: FunctionConfiguration): Promise<string> {
    const sha = fn.CodeSha256 ?? '';
    const known = this.codeDirs.get(sha);
    if (known) return known;
    const zip = this.options.zipPath ? await readFile(this.options.zipPath) : await this.download(fn);
    const actual = createHash('sha256').update(zip).digest('base64');
    if (actual !== sha) {
      throw new Error(`deployed code differs from the package (CodeSha256 ${sha}, package ${actual})`);
    }
    const dir = join(await this.root, `code-${this.codeDirs.size}`);
    await mkdir(dir);
    await extractZip(zip, dir);
    this.codeDirs.set(sha, dir);
    return dir;
  }

  private async download(fn: FunctionConfiguration): Promise<Buffer> {
    const got = await this.options.lambda.send(new GetFunctionCommand({ FunctionName: fn.FunctionArn }));
    const location = got.Code?.Location;
    try {
      if (!location) throw new Error('no Code.Location');
      const response = await fetch(location, { signal: AbortSignal.timeout(CODE_DOWNLOAD_TIMEOUT_MS) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return Buffer.from(await response.arrayBuffer());
    } catch (error) {
      throw new Error(`cannot download the deployed code (${(error as Error).message}); pass zipPath`);
    }
  }

  private ensureWarm(fn: FunctionConfiguration, dir: string): Warm {
    const env: Record<string, string> = {
      ...(fn.Environment?.Variables ?? {}),
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      AWS_REGION: this.options.region,
      AWS_DEFAULT_REGION: this.options.region,
      AWS_ENDPOINT_URL: this.options.handlerEndpoint,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_SESSION_TOKEN: 'testing',
      AWS_LAMBDA_FUNCTION_NAME: fn.FunctionName ?? '',
      AWS_LAMBDA_FUNCTION_VERSION: fn.Version ?? '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.MemorySize ?? 128),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.FunctionName}`,
      AWS_EXECUTION_ENV: `AWS_Lambda_${fn.Runtime ?? 'nodejs22.x'}`,
      LAMBDA_TASK_ROOT: dir,
      _HANDLER: fn.Handler ?? 'index.handler',
      // The deployed runtime is Node 22+, where the SDK prints no Node-version warning; keep the log honest.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    const key = JSON.stringify([fn.CodeSha256, fn.Handler, fn.Runtime, fn.Timeout, fn.MemorySize, env]);
    if (this.warm?.key === key && this.warm.child.exitCode === null && this.warm.child.signalCode === null) {
      return this.warm;
    }
    this.stop();
    const child = fork(RUNNER_PATH, [], { cwd: dir, env, execArgv: [], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    for (const stream of [child.stdout, child.stderr]) this.captureLines(stream);
    const pending = new Map<string, Pending>();
    const ready = new Promise<InvokeOutcome | undefined>((resolve) => {
      const timer = setTimeout(() => resolve({ ok: false, kind: 'init', reason: 'init timed out' }), INIT_TIMEOUT_MS);
      child.on('message', (message: RunnerMessage) => {
        if (message.type === 'ready' || message.type === 'init-error') clearTimeout(timer);
        if (message.type === 'ready') resolve(undefined);
        else if (message.type === 'init-error') resolve({ ok: false, kind: 'init', reason: message.error.message });
        else pending.get(message.id)?.resolve(outcomeOf(message));
        if (message.type === 'result' || message.type === 'error') pending.delete(message.id);
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        const reason = `runtime exited (${signal ?? code})`;
        resolve({ ok: false, kind: 'init', reason });
        for (const p of pending.values()) p.resolve({ ok: false, kind: 'crash', reason });
        pending.clear();
      });
    });
    this.warm = { key, child, ready, pending };
    return this.warm;
  }

  private captureLines(stream: NodeJS.ReadableStream | null): void {
    let partial = '';
    stream?.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) this.options.onLog(line);
    });
    stream?.on('end', () => partial && this.options.onLog(partial));
  }

  private stop(): void {
    if (this.warm && this.warm.child.exitCode === null) this.warm.child.kill('SIGKILL');
    this.warm = undefined;
  }
}

type RunnerMessage =
  | { type: 'ready' }
  | { type: 'init-error'; error: { message: string } }
  | { type: 'result'; id: string; result: unknown }
  | { type: 'error'; id: string; error: { name: string; message: string } };

function outcomeOf(message: RunnerMessage): InvokeOutcome {
  if (message.type === 'result') return { ok: true, result: message.result };
  if (message.type === 'error') return { ok: false, kind: 'handler', reason: `${message.error.name}: ${message.error.message}` };
  return { ok: false, kind: 'crash', reason: 'unexpected runtime message' };
}
