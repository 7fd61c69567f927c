import { createHash } from 'node:crypto';
import type { Tag } from '@aws-sdk/client-ecs';
import { STARTED_BY_PREFIX, TASK_TAGS } from './contract.js';
import type { WebhookBody } from './request.js';

/** ECS's limit on a tag value (RunTask `tags`: "Maximum value length - 256 Unicode characters"). */
const TAG_VALUE_MAX_CHARS = 256;
/** FACTS §5: `startedBy` up to 36 characters; `scalr-` (6) + 30 hex fills it exactly. */
const STARTED_BY_HASH_CHARS = 36 - STARTED_BY_PREFIX.length;
/** RunTask `clientToken`: up to 64 ASCII characters in 33-126 (ECS_Idempotency). */
const CLIENT_TOKEN_MAX_CHARS = 64;

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * The `startedBy` of the task for `key`: a ListTasks filter, so a later delivery of the same Scalr
 * task finds the task the first one started, however long ago, and also against moto, which
 * ignores clientToken. ListTasks is eventually consistent, so this alone cannot stop two
 * concurrent duplicates: that is the clientToken's job.
 */
export function startedByFor(key: string): string {
  return STARTED_BY_PREFIX + sha256Hex(key).slice(0, STARTED_BY_HASH_CHARS);
}

/**
 * The RunTask `clientToken` for `key` on one subnet. Real ECS returns the first call's result to a
 * repeated token (per cluster), which is what de-duplicates concurrent deliveries that both passed
 * the ListTasks lookup; the ECS_Idempotency page gives RunTask tokens a time to live of 24 hours.
 * A token reused with different parameters fails with ConflictException, and the subnet is a
 * parameter, so the token covers (key, subnet): every delivery walks the subnets in the same order
 * (see `subnetOrder`), so concurrent duplicates send identical requests. 64 hex chars = the limit.
 */
export function clientTokenFor(key: string, subnet: string): string {
  return sha256Hex(`${key}\n${subnet}`).slice(0, CLIENT_TOKEN_MAX_CHARS);
}

/**
 * The order to try `subnets` in for `key`: a rotation chosen by the key's hash, so launches spread
 * over the AZs while every duplicate of one delivery tries the same subnet first.
 */
export function subnetOrder(subnets: string[], key: string | undefined): string[] {
  if (subnets.length < 2) return [...subnets];
  const start = key === undefined ? Math.floor(Math.random() * subnets.length) : parseInt(sha256Hex(key).slice(0, 8), 16) % subnets.length;
  return [...subnets.slice(start), ...subnets.slice(0, start)];
}

/**
 * Makes `value` a valid ECS tag value: only letters, digits, spaces and `+ - = . _ : / @` (the
 * characters the RunTask docs call generally allowed), no reserved `aws:` prefix, at most 256
 * characters. Returns undefined for nothing left, so the tag is left off rather than sent empty.
 */
export function tagValue(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let clean = value.replace(/[^\p{L}\p{N} +\-=._:/@]/gu, '_').trim();
  if (/^aws:/i.test(clean)) clean = `_${clean}`;
  clean = Array.from(clean).slice(0, TAG_VALUE_MAX_CHARS).join('');
  return clean === '' ? undefined : clean;
}

/** The tags of the agent task: the Scalr ids of the run it serves, plus the stack that owns it. */
export function taskTags(body: WebhookBody, stack: string): Tag[] {
  const pairs: [string, string | undefined][] = [
    [TASK_TAGS.taskId, body.taskId],
    [TASK_TAGS.runId, body.runId],
    [TASK_TAGS.workspaceId, body.workspaceId],
    [TASK_TAGS.environmentId, body.environmentId],
    [TASK_TAGS.action, body.action],
    [TASK_TAGS.stack, stack],
  ];
  const tags: Tag[] = [];
  for (const [key, raw] of pairs) {
    const value = tagValue(raw);
    if (value !== undefined) tags.push({ key, value });
  }
  return tags;
}
