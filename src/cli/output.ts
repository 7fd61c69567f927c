/** Where a command writes, and what it must never write. */
export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** True when stderr is a terminal: spinners and prompts, else plain lines. */
  interactive: boolean;
  json: boolean;
  quiet: boolean;
  debug: boolean;
  secrets: SecretMask;
  /** Every warning printed so far, so a --json document can carry them too. */
  warnings?: string[];
  /** Asks a yes/no question on the terminal; only called when interactive. */
  confirm(question: string): Promise<boolean>;
}

/**
 * Every secret the process learns (the API key, Scalr tokens) is registered here, and every line any
 * reporter writes passes through `mask`, so no code path can print a secret by accident.
 */
export class SecretMask {
  private readonly secrets = new Set<string>();
  private readonly allowed = new Set<string>();

  add(secret: string | undefined): void {
    if (secret && secret.length >= 4) this.secrets.add(secret);
  }

  /** Lets a secret through: the user asked to see it (--show-secrets). */
  allow(secret: string): void {
    this.allowed.add(secret);
  }

  mask(text: string): string {
    let masked = text;
    for (const secret of this.secrets) if (!this.allowed.has(secret)) masked = masked.split(secret).join(redact(secret));
    return masked;
  }
}

/** A secret shown as its first 4 characters and stars: enough to tell two keys apart, not to use one. */
export function redact(secret: string): string {
  return `${secret.slice(0, 4)}${'*'.repeat(Math.max(8, secret.length - 4))}`;
}

/** Writes one line to stderr (progress, warnings), masked; silent under --json and --quiet. */
export function info(io: Io, line: string): void {
  if (io.json || io.quiet) return;
  io.stderr.write(`${io.secrets.mask(line)}\n`);
}

/** Writes a warning to stderr, masked; shown even under --quiet, never on stdout. */
export function warn(io: Io, line: string): void {
  io.warnings?.push(io.secrets.mask(line));
  io.stderr.write(`${io.secrets.mask(`warning: ${line}`)}\n`);
}

/** Writes the command's result to stdout, masked: text lines, or the one JSON document under --json. */
export function result(io: Io, text: string | (() => string), document: unknown): void {
  if (io.json) io.stdout.write(`${io.secrets.mask(JSON.stringify(document, null, 2))}\n`);
  else io.stdout.write(`${io.secrets.mask(typeof text === 'function' ? text() : text)}\n`);
}
