import { HANDLER_ENV } from './contract.js';

/** The handler's settings, parsed once per cold start from the environment `up` gives the function. */
export interface HandlerConfig {
  cluster: string;
  taskDefinition: string;
  container: string;
  /** One subnet per AZ, tried in turn when one AZ has no Fargate capacity. */
  subnets: string[];
  securityGroups: string[];
  /** Lower-cased host patterns; empty means every https host is accepted. */
  allowedHosts: string[];
  stack: string;
}

/** A parsed configuration, or the reason the function cannot run (a deployment bug, answered 500). */
export type ConfigResult = { ok: true; config: HandlerConfig } | { ok: false; error: string };

const REQUIRED = ['cluster', 'taskDefinition', 'container', 'subnets', 'securityGroups'] as const;

/** Reads HANDLER_ENV from `env`; never throws, so a bad deployment still answers with a clear error. */
export function parseConfig(env: Record<string, string | undefined>): ConfigResult {
  const read = (key: keyof typeof HANDLER_ENV) => (env[HANDLER_ENV[key]] ?? '').trim();
  const missing = REQUIRED.filter((key) => read(key) === '').map((key) => HANDLER_ENV[key]);
  const subnets = splitList(read('subnets'));
  const securityGroups = splitList(read('securityGroups'));
  if (read('subnets') !== '' && subnets.length === 0) missing.push(HANDLER_ENV.subnets);
  if (read('securityGroups') !== '' && securityGroups.length === 0) missing.push(HANDLER_ENV.securityGroups);
  if (missing.length > 0) return { ok: false, error: `handler misconfigured: missing ${missing.join(', ')}` };
  return {
    ok: true,
    config: {
      cluster: read('cluster'),
      taskDefinition: read('taskDefinition'),
      container: read('container'),
      subnets,
      securityGroups,
      allowedHosts: splitList(read('allowedHosts')).map((host) => host.toLowerCase()),
      stack: read('stack'),
    },
  };
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/**
 * Whether `host` is allowed by `patterns`. `*.scalr.io` matches one or more labels before
 * `.scalr.io` (`acme.scalr.io`, `a.b.scalr.io`) but not the bare apex `scalr.io`, which must be
 * listed on its own; this is the usual TLS-wildcard reading, widened to nested labels because
 * Scalr hosts are `<account>.scalr.io` and nothing shorter.
 */
export function hostAllowed(host: string, patterns: string[]): boolean {
  if (patterns.length === 0) return true;
  const name = host.toLowerCase().replace(/\.$/, '');
  return patterns.some((pattern) => {
    if (!pattern.startsWith('*.')) return name === pattern;
    const suffix = pattern.slice(1); // ".scalr.io"
    return name.length > suffix.length && name.endsWith(suffix) && !name.slice(0, -suffix.length).endsWith('.');
  });
}
