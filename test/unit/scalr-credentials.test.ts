import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../src/errors.js';
import { normalizeScalrHost, resolveAgentToken, resolveScalrCredentials } from '../../src/scalr/credentials.js';

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'scalr-home-'));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

async function writeConf(content: unknown, mode = 0o600) {
  await mkdir(join(home, '.scalr'), { recursive: true });
  const path = join(home, '.scalr', 'scalr.conf');
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
  await chmod(path, mode);
  return path;
}

async function rejection(promise: Promise<unknown>): Promise<UsageError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(UsageError);
  return error as UsageError;
}

describe('Scalr host', () => {
  it('reads a bare host as https and keeps a full URL as given', () => {
    expect(normalizeScalrHost('acme.scalr.io', 'SCALR_HOSTNAME')).toEqual({ scalrUrl: 'https://acme.scalr.io', hostname: 'acme.scalr.io', warnings: [] });
    expect(normalizeScalrHost('https://ACME.scalr.io/', 'x').scalrUrl).toBe('https://acme.scalr.io');
    expect(normalizeScalrHost('scalr.internal:8443', 'x').scalrUrl).toBe('https://scalr.internal:8443');
  });

  it('allows http with a warning that it exists for local testing', () => {
    const host = normalizeScalrHost('http://127.0.0.1:9999', '--scalr-hostname');
    expect(host.scalrUrl).toBe('http://127.0.0.1:9999');
    expect(host.warnings.join()).toContain('exists for local testing');
  });

  it('rejects garbage with a usage error', () => {
    for (const bad of ['acme scalr.io', 'https://acme.scalr.io/api', 'ftp://acme.scalr.io', 'https://me:pw@acme.scalr.io', 'acme.scalr.io?x=1', 'acme_scalr!.io', '']) {
      expect(() => normalizeScalrHost(bad, 'SCALR_HOSTNAME'), bad).toThrow(UsageError);
    }
  });
});

describe('resolveScalrCredentials', () => {
  it('takes the host and token from the environment', async () => {
    const creds = await resolveScalrCredentials({ env: { SCALR_HOSTNAME: 'acme.scalr.io', SCALR_TOKEN: 'env-token-1' }, homeDir: home });
    expect(creds).toMatchObject({ scalrUrl: 'https://acme.scalr.io', hostname: 'acme.scalr.io', token: 'env-token-1', tokenSource: 'SCALR_TOKEN', warnings: [] });
  });

  it('prefers the flags, and warns that a token flag shows in process lists', async () => {
    const creds = await resolveScalrCredentials({
      hostnameFlag: 'flag.scalr.io', tokenFlag: 'flag-token-1',
      env: { SCALR_HOSTNAME: 'env.scalr.io', SCALR_TOKEN: 'env-token-1' }, homeDir: home,
    });
    expect(creds).toMatchObject({ hostname: 'flag.scalr.io', token: 'flag-token-1', tokenSource: '--scalr-token' });
    expect(creds.warnings.join()).toContain('process list');
    expect(creds.warnings.join()).not.toContain('flag-token-1');
  });

  it('without any token, names SCALR_TOKEN and the scalr.conf file', async () => {
    const error = await rejection(resolveScalrCredentials({ env: { SCALR_HOSTNAME: 'acme.scalr.io' }, homeDir: home }));
    expect(error.message).toContain('SCALR_TOKEN');
    expect(error.message).toContain(join(home, '.scalr', 'scalr.conf'));
  });

  it('falls back to the flat scalr.conf that scalr-cli writes, host included', async () => {
    await writeConf({ hostname: 'conf.scalr.io', token: 'conf-token-1', account: 'acc-123' });
    const creds = await resolveScalrCredentials({ env: {}, homeDir: home });
    expect(creds).toMatchObject({ scalrUrl: 'https://conf.scalr.io', token: 'conf-token-1', tokenSource: 'scalr.conf' });
  });

  it('reads the `url` key older scalr-cli versions wrote', async () => {
    await writeConf({ url: 'https://old.scalr.io', token: 'old-token-1' });
    const creds = await resolveScalrCredentials({ env: {}, homeDir: home });
    expect(creds).toMatchObject({ hostname: 'old.scalr.io', token: 'old-token-1' });
  });

  it('picks a profile with SCALR_PROFILE, else the default one', async () => {
    await writeConf({
      default: 'work',
      profiles: { work: { hostname: 'work.scalr.io', token: 'work-token' }, lab: { hostname: 'http://127.0.0.1:8080', token: 'lab-token' } },
    });
    expect(await resolveScalrCredentials({ env: {}, homeDir: home })).toMatchObject({ hostname: 'work.scalr.io', token: 'work-token' });
    const lab = await resolveScalrCredentials({ env: { SCALR_PROFILE: 'lab' }, homeDir: home });
    expect(lab).toMatchObject({ scalrUrl: 'http://127.0.0.1:8080', token: 'lab-token' });
    expect(lab.warnings.join()).toContain('local testing');
    const error = await rejection(resolveScalrCredentials({ env: { SCALR_PROFILE: 'nope' }, homeDir: home }));
    expect(error.message).toContain('profiles: work, lab');
  });

  it('never sends a scalr.conf token to a different host', async () => {
    await writeConf({ hostname: 'acme.scalr.io', token: 'acme-token-1' });
    const error = await rejection(resolveScalrCredentials({ env: { SCALR_HOSTNAME: 'other.scalr.io' }, homeDir: home }));
    expect(error.hint).toContain('holds a token for acme.scalr.io, not other.scalr.io');
    expect(`${error.message} ${error.hint}`).not.toContain('acme-token-1');
  });

  it('reports a broken scalr.conf without printing it, and ignores it when the environment suffices', async () => {
    await writeConf('{"token": "secret-in-broken-file"');
    const error = await rejection(resolveScalrCredentials({ env: {}, homeDir: home }));
    expect(error.message).toContain('is not valid JSON');
    expect(error.message).not.toContain('secret-in-broken-file');
    const creds = await resolveScalrCredentials({ env: { SCALR_HOSTNAME: 'a.scalr.io', SCALR_TOKEN: 't-1' }, homeDir: home });
    expect(creds.token).toBe('t-1');
  });

  it('warns when scalr.conf is readable by others', async () => {
    const path = await writeConf({ hostname: 'acme.scalr.io', token: 'tok-1' }, 0o644);
    const creds = await resolveScalrCredentials({ env: {}, homeDir: home });
    expect(creds.warnings.join()).toContain(`chmod 600 ${path}`);
  });

  it("uses Terraform's credentials.tfrc.json for the host, as scalr-cli does", async () => {
    await mkdir(join(home, '.terraform.d'));
    await writeFile(join(home, '.terraform.d', 'credentials.tfrc.json'), JSON.stringify({ credentials: { 'acme.scalr.io': { token: 'tf-token-1' } } }));
    const creds = await resolveScalrCredentials({ env: { SCALR_HOSTNAME: 'acme.scalr.io' }, homeDir: home });
    expect(creds).toMatchObject({ token: 'tf-token-1', tokenSource: 'credentials.tfrc.json' });
  });
});

describe('resolveAgentToken', () => {
  it('reads SCALR_AGENT_TOKEN, warns about --agent-token, and is undefined when neither is set', () => {
    expect(resolveAgentToken({ env: { SCALR_AGENT_TOKEN: 'pool-tok' } })).toEqual({ agentToken: 'pool-tok', warnings: [] });
    const flag = resolveAgentToken({ agentTokenFlag: 'flag-pool-tok', env: {} });
    expect(flag.agentToken).toBe('flag-pool-tok');
    expect(flag.warnings.join()).toContain('SCALR_AGENT_TOKEN');
    expect(resolveAgentToken({ env: { SCALR_AGENT_TOKEN: '  ' } }).agentToken).toBeUndefined();
  });
});
