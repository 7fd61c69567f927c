import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../errors.js';

/** Scalr's own tools default to the SaaS host when none is configured. */
export const DEFAULT_SCALR_HOSTNAME = 'scalr.io';
/** Where scalr-cli's `-configure` writes (JSON, mode 0600). */
export const SCALR_CONF_RELATIVE_PATH = join('.scalr', 'scalr.conf');
/** scalr-cli's second source: Terraform's CLI credentials, `{credentials: {<host>: {token}}}`. */
export const TERRAFORM_CREDENTIALS_RELATIVE_PATH = join('.terraform.d', 'credentials.tfrc.json');

const FLAG_WARNING = (flag: string, env: string) =>
  `${flag} is visible to other users in the process list and lands in shell history; prefer ${env}`;

/** Inputs to credential resolution: flags, the environment, and the home directory (a temp dir in tests). */
export interface ScalrCredentialInput {
  hostnameFlag?: string;
  tokenFlag?: string;
  env: Record<string, string | undefined>;
  homeDir: string;
}

/** Where to call Scalr and with which token. */
export interface ScalrCredentials {
  /** `https://acme.scalr.io`, no trailing slash. */
  scalrUrl: string;
  /** `acme.scalr.io` (with `:port` if one was given). */
  hostname: string;
  token: string;
  /** Where the token came from, for `status` output (never the token itself). */
  tokenSource: '--scalr-token' | 'SCALR_TOKEN' | 'scalr.conf' | 'credentials.tfrc.json';
  warnings: string[];
}

/** One set of settings in scalr.conf: scalr-cli writes `hostname` (older versions `url`), `token`, `account`. */
interface ConfEntry {
  hostname?: string;
  url?: string;
  token?: string;
  account?: string;
}

const HOST_LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const HOSTNAME_PATTERN = new RegExp(`^${HOST_LABEL}(?:\\.${HOST_LABEL})*$`);

/**
 * Normalises `acme.scalr.io`, `https://acme.scalr.io/` or `http://127.0.0.1:8080` into a base URL.
 * A bare host means https; http is allowed (the fake Scalr in tests) with a warning.
 */
export function normalizeScalrHost(input: string, source: string): { scalrUrl: string; hostname: string; warnings: string[] } {
  const raw = input.trim();
  const usage = (why: string) =>
    new UsageError(`${source} "${raw}" is not a Scalr host: ${why}`, 'Give a host such as acme.scalr.io or a URL such as https://acme.scalr.io.');
  if (raw === '' || /\s/.test(raw)) throw usage('it is empty or contains spaces');
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw);
  let url: URL;
  try {
    url = new URL(hasScheme ? raw : `https://${raw}`);
  } catch {
    throw usage('it does not parse as a host or URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw usage(`the scheme must be https (got ${url.protocol})`);
  if (url.username || url.password) throw usage('it must not hold a user name or password');
  if (url.pathname !== '/' || url.search || url.hash) throw usage('it must not have a path, query or fragment');
  // URL() percent-encodes or drops odd characters; insist the host is what the user typed.
  const bareHost = url.hostname.toLowerCase();
  const isIp = /^\d{1,3}(\.\d{1,3}){3}$/.test(bareHost) || bareHost.startsWith('[');
  if (!isIp && !HOSTNAME_PATTERN.test(bareHost)) throw usage('the host name has characters a DNS name cannot have');
  const warnings =
    url.protocol === 'http:'
      ? [`${source} uses plain http: the Scalr token travels unencrypted; http exists for local testing only`]
      : [];
  return { scalrUrl: `${url.protocol}//${url.host}`, hostname: url.host, warnings };
}

/** Reads a JSON file from the home directory; undefined when it does not exist. */
async function readJsonFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UsageError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    // Never echo the content: it holds a token.
    throw new UsageError(`${path} is not valid JSON`, 'Fix or remove it, or run `scalr -configure` again.');
  }
}

/** Picks the settings from scalr.conf: the flat form scalr-cli writes, or a `profiles` map. */
function confEntry(conf: unknown, path: string, profileEnv: string | undefined, warnings: string[]): ConfEntry | undefined {
  if (!conf || typeof conf !== 'object' || Array.isArray(conf)) {
    throw new UsageError(`${path} must hold a JSON object like {"hostname": "...", "token": "..."}`);
  }
  const record = conf as Record<string, unknown>;
  const profiles = record.profiles;
  if (profiles && typeof profiles === 'object' && !Array.isArray(profiles)) {
    const map = profiles as Record<string, unknown>;
    const fallback = typeof record.default === 'string' ? record.default : 'default';
    const name = profileEnv || fallback;
    const entry = map[name];
    if (!entry || typeof entry !== 'object') {
      if (!profileEnv) return undefined; // no default profile: fall through to "no token"
      const known = Object.keys(map).join(', ') || 'none';
      throw new UsageError(`SCALR_PROFILE=${name}, but ${path} has no such profile (profiles: ${known})`);
    }
    return entry as ConfEntry;
  }
  if (profileEnv && profileEnv !== 'default') {
    warnings.push(`SCALR_PROFILE=${profileEnv} is set, but ${path} has no profiles; used its top-level settings`);
  }
  return record as ConfEntry;
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** Warns when a file holding a token is readable by group or others (scalr-cli writes it 0600). */
async function permissionWarning(path: string): Promise<string | undefined> {
  if (process.platform === 'win32') return undefined;
  const info = await stat(path).catch(() => undefined);
  return info && (info.mode & 0o077) !== 0 ? `${path} is readable by other users; run chmod 600 ${path}` : undefined;
}

/**
 * Resolves the Scalr host and account token. Host: --scalr-hostname, SCALR_HOSTNAME, scalr.conf,
 * else scalr.io. Token: --scalr-token, SCALR_TOKEN, scalr.conf (profile SCALR_PROFILE), then
 * Terraform's credentials.tfrc.json for that host, as scalr-cli does.
 */
export async function resolveScalrCredentials(input: ScalrCredentialInput): Promise<ScalrCredentials> {
  const warnings: string[] = [];
  const confPath = join(input.homeDir, SCALR_CONF_RELATIVE_PATH);
  const flagHost = nonEmpty(input.hostnameFlag);
  const envHost = nonEmpty(input.env.SCALR_HOSTNAME);
  const flagToken = nonEmpty(input.tokenFlag);
  const envToken = nonEmpty(input.env.SCALR_TOKEN);
  // Read scalr.conf only when it can matter, so a broken file never blocks SCALR_HOSTNAME + SCALR_TOKEN.
  const needConf = !(flagHost || envHost) || !(flagToken || envToken);
  const conf = needConf ? await readJsonFile(confPath) : undefined;
  const entry = conf === undefined ? undefined : confEntry(conf, confPath, nonEmpty(input.env.SCALR_PROFILE), warnings);

  const confHost = nonEmpty(entry?.hostname) ?? nonEmpty(entry?.url);
  const [hostInput, hostSource] = flagHost
    ? [flagHost, '--scalr-hostname']
    : envHost
      ? [envHost, 'SCALR_HOSTNAME']
      : confHost
        ? [confHost, `hostname in ${confPath}`]
        : [DEFAULT_SCALR_HOSTNAME, 'the default host'];
  const host = normalizeScalrHost(hostInput, hostSource);
  warnings.push(...host.warnings);

  if (flagToken) {
    warnings.push(FLAG_WARNING('--scalr-token', 'SCALR_TOKEN'));
    return { ...host, token: flagToken, tokenSource: '--scalr-token', warnings };
  }
  if (envToken) return { ...host, token: envToken, tokenSource: 'SCALR_TOKEN', warnings };

  const confToken = nonEmpty(entry?.token);
  let skipped: string | undefined;
  if (confToken) {
    // A token is only good for the host it was issued by: never send acme's token to another host.
    const confHostname = confHost ? normalizeScalrHost(confHost, `hostname in ${confPath}`).hostname : undefined;
    if (!confHostname || confHostname === host.hostname) {
      const loose = await permissionWarning(confPath);
      if (loose) warnings.push(loose);
      return { ...host, token: confToken, tokenSource: 'scalr.conf', warnings };
    }
    skipped = `${confPath} holds a token for ${confHostname}, not ${host.hostname}; it was not used.`;
    warnings.push(skipped);
  }

  const tfPath = join(input.homeDir, TERRAFORM_CREDENTIALS_RELATIVE_PATH);
  const tf = (await readJsonFile(tfPath).catch(() => undefined)) as { credentials?: Record<string, { token?: unknown }> } | undefined;
  const tfToken = nonEmpty(tf?.credentials?.[host.hostname]?.token);
  if (tfToken) return { ...host, token: tfToken, tokenSource: 'credentials.tfrc.json', warnings };

  throw new UsageError(
    `no Scalr token for ${host.hostname}: set SCALR_TOKEN (or configure ${confPath} with scalr -configure)`,
    [skipped, 'Create an API token in Scalr (user settings or a service account) and run: export SCALR_TOKEN=...']
      .filter(Boolean)
      .join(' '),
  );
}

/** The agent pool token to put on the pool: SCALR_AGENT_TOKEN or --agent-token; undefined means "create one". */
export function resolveAgentToken(input: { agentTokenFlag?: string; env: Record<string, string | undefined> }): {
  agentToken?: string;
  warnings: string[];
} {
  const flag = nonEmpty(input.agentTokenFlag);
  if (flag) return { agentToken: flag, warnings: [FLAG_WARNING('--agent-token', 'SCALR_AGENT_TOKEN')] };
  return { agentToken: nonEmpty(input.env.SCALR_AGENT_TOKEN), warnings: [] };
}
