import { CommanderError, type Command } from 'commander';
import { buildProgram, type OutputFlags } from './program.js';
import { SecretMask, type Io } from './output.js';
import { ScalrServerlessError, UsageError, describeCause } from '../errors.js';

/** Exit codes, as documented in the README. */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

function makeIo(flags: OutputFlags): Io {
  const interactive = Boolean(process.stdin.isTTY && process.stderr.isTTY) && !process.env.CI;
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    interactive,
    json: Boolean(flags.json),
    quiet: Boolean(flags.quiet),
    debug: Boolean(flags.debug),
    secrets: new SecretMask(),
    warnings: [],
    async confirm(question) {
      // Loaded only when a prompt is shown: --help and --version stay at bare-node speed.
      const { createInterface } = await import('node:readline/promises');
      const prompt = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return /^y(es)?$/i.test((await prompt.question(question)).trim());
      } catch (error) {
        // Ctrl-C at the prompt is an interrupt (exit 130); Ctrl-D, end of input, is "no".
        if ((error as Error).message?.includes('Ctrl+C')) {
          throw new ScalrServerlessError('INTERRUPTED', 'cancelled at the prompt: nothing was changed');
        }
        return false;
      } finally {
        prompt.close();
      }
    },
  };
}

/** The one place errors are printed: a user error is one line and a hint; an internal one says it is a bug. */
export function reportError(error: unknown, io: Io): number {
  const known = error instanceof ScalrServerlessError ? error : undefined;
  // 130 is what shells report for a run stopped by Ctrl-C; CI systems recognise it as cancelled.
  const code = known instanceof UsageError ? EXIT.usage : known?.code === 'INTERRUPTED' ? EXIT.interrupted : EXIT.failed;
  const internal = !known || known.source === 'internal';
  const message = known ? known.message : describeCause(error);
  if (io.json) {
    const document = { error: { code: known?.code ?? 'INTERNAL', message, hint: known?.hint, internal } };
    io.stdout.write(`${io.secrets.mask(JSON.stringify(document, null, 2))}\n`);
    return code;
  }
  const lines = [internal ? `error: internal error (a bug in scalr-serverless): ${message}` : `error: ${message}`];
  if (known?.hint) lines.push(`hint: ${known.hint}`);
  if (internal) {
    if (io.debug && error instanceof Error) lines.push(error.stack ?? '');
    else lines.push('hint: run again with --debug for details, and please report it');
  }
  io.stderr.write(`${io.secrets.mask(lines.join('\n'))}\n`);
  return code;
}

/** CLI entry point: parse, run one command, print its errors, set the exit code. */
/** Common options that take a value, so that `--stack prod up` can be read as `up --stack prod`. */
const VALUE_OPTIONS = new Set(['--stack', '--state', '--region', '--profile', '--endpoint-url']);
const FLAG_OPTIONS = new Set(['--json', '-q', '--quiet', '--debug']);

/**
 * Terraform and the AWS CLI accept global options before the command; ours are declared on each
 * command, so common options written before it are moved after it (`--stack x up` -> `up --stack x`).
 */
export function commonOptionsAfterCommand(argv: string[]): string[] {
  const [node, script, ...rest] = argv;
  const moved: string[] = [];
  let index = 0;
  while (index < rest.length) {
    const token = rest[index];
    const name = token.split('=')[0];
    if (FLAG_OPTIONS.has(token)) moved.push(token);
    else if (VALUE_OPTIONS.has(name)) {
      moved.push(token);
      if (!token.includes('=') && index + 1 < rest.length) moved.push(rest[++index]);
    } else break;
    index++;
  }
  if (moved.length === 0 || index >= rest.length) return argv;
  // `pool attach` has a subcommand: the options go after the innermost command word.
  const command = [rest[index]];
  if (rest[index] === 'pool' && rest[index + 1] && !rest[index + 1].startsWith('-')) command.push(rest[++index]);
  return [node, script, ...command, ...moved, ...rest.slice(index + 1)];
}

export async function main(rawArgv: string[]): Promise<void> {
  // `scalr-serverless logs | head` closes the pipe early: that is the reader being done, not a failure.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  const argv = commonOptionsAfterCommand(rawArgv);
  // A parse error happens before any action has its flags, so --json is looked for in argv itself: a
  // script that asked for JSON gets its one JSON document even when it misspelt another flag.
  const wantsJson = argv.slice(2).includes('--json');
  let io = makeIo({ json: wantsJson });
  const program = buildProgram(async (run, flags) => {
    // `--memory --json` gives --json to --memory as its value; the user still asked for JSON.
    io = makeIo({ ...flags, json: Boolean(flags.json) || wantsJson });
    await run(io);
  });
  (function override(command: Command): void {
    command.exitOverride();
    // Under --json commander's own error text would land on stderr with no document on stdout.
    if (wantsJson) command.configureOutput({ outputError: () => {}, writeErr: () => {} });
    command.commands.forEach(override);
  })(program);
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version end with code 0; every parse error is bad usage (exit 2).
      if (error.exitCode !== 0 && wantsJson) {
        reportError(new UsageError(error.message.replace(/^error: /, ''), 'run the command with --help for its usage'), io);
      }
      process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
      return;
    }
    process.exitCode = reportError(error, io);
  }
}
