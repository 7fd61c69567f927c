import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { SecretMask, info, redact, result, warn, type Io } from '../../src/cli/output.js';
import { TerminalReporter } from '../../src/cli/reporter.js';
import { reportError } from '../../src/cli/main.js';
import { ScalrServerlessError } from '../../src/errors.js';

const KEY = 'mD6v4gOfPrCVaEU1Sn9dMzqL3Xp08yNATYcGil5F';

function captureIo(overrides: Partial<Io> = {}): Io & { out(): string; err(): string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk) => (out += chunk));
  stderr.on('data', (chunk) => (err += chunk));
  const secrets = new SecretMask();
  secrets.add(KEY);
  return {
    stdout,
    stderr,
    interactive: false,
    json: false,
    quiet: false,
    debug: false,
    secrets,
    confirm: async () => false,
    ...overrides,
    out: () => out,
    err: () => err,
  };
}

describe('the secret mask', () => {
  it('masks a registered secret wherever it appears, keeping 4 characters to tell keys apart', () => {
    const mask = new SecretMask();
    mask.add(KEY);
    const masked = mask.mask(`key=${KEY} again ${KEY}`);
    expect(masked).not.toContain(KEY);
    expect(masked).toBe(`key=${redact(KEY)} again ${redact(KEY)}`);
    expect(redact(KEY).startsWith('mD6v')).toBe(true);
    expect(redact('abcd')).toMatch(/^abcd\*{8}$/);
  });

  it('lets a secret through only once allowed (--show-secrets), and only that one', () => {
    const mask = new SecretMask();
    mask.add(KEY);
    mask.add('scalr-token-value');
    mask.allow(KEY);
    expect(mask.mask(`${KEY} scalr-token-value`)).toBe(`${KEY} ${redact('scalr-token-value')}`);
  });

  it('every output path masks: info, warn, result, JSON result, errors, reporter lines', () => {
    const io = captureIo();
    info(io, `info ${KEY}`);
    warn(io, `warn ${KEY}`);
    result(io, `text ${KEY}`, {});
    const reporter = new TerminalReporter(io);
    reporter.emit({ type: 'phase', message: `phase ${KEY}` });
    reporter.emit({ type: 'step-wait', key: 'k', label: 'API Key', name: 'n', message: `waiting on ${KEY}` });
    reportError(new ScalrServerlessError('X', `failed with ${KEY}`, { hint: `hint ${KEY}` }), io);
    const json = captureIo({ json: true });
    result(json, '', { key: KEY });
    reportError(new Error(`boom ${KEY}`), json);
    const all = io.out() + io.err() + json.out() + json.err();
    expect(all).toContain('info');
    expect(all).toContain('phase');
    expect(all).toContain('boom');
    expect(all).not.toContain(KEY);
  });
});
