import type { AwsClients } from '../../aws/clients.js';
import { readApiKeyValue } from '../../resources/api-key.js';
import { webhookUrl } from '../../stack.js';
import type { StackState } from '../../state/state-file.js';
import { redact, type Io } from '../output.js';

/** The stack's outputs, as printed and as `--json` holds them. */
export interface StackOutputs {
  webhook_url?: string;
  /** Masked unless --show-secrets. */
  api_key?: string;
}

/** The API key's value, straight from API Gateway (the state file never holds it), registered as a secret. */
export async function apiKeyValue(clients: AwsClients, state: StackState, io: Io): Promise<string | undefined> {
  const id = state.resources.apiKey?.id;
  if (!id) return undefined;
  const value = await readApiKeyValue(clients, id);
  io.secrets.add(value);
  return value;
}

/**
 * Reads the outputs of an applied stack. The key is shown only with `showSecrets`. `keyRead` is a read
 * of the key's value already under way (up starts it as soon as the key exists, beside the last steps).
 */
export async function readOutputs(
  clients: AwsClients,
  state: StackState,
  showSecrets: boolean,
  io: Io,
  keyRead: Promise<string | undefined> = apiKeyValue(clients, state, io),
): Promise<StackOutputs> {
  const invokeUrl = state.resources.stage?.outputs.invokeUrl;
  const key = await keyRead.catch(() => undefined);
  return {
    webhook_url: typeof invokeUrl === 'string' ? webhookUrl(invokeUrl) : undefined,
    api_key: key === undefined ? undefined : showSecrets ? unmasked(io, key) : redact(key),
  };
}

/** Lets one value through the secret mask: the user asked for it with --show-secrets. */
function unmasked(io: Io, value: string): string {
  io.secrets.allow(value);
  return value;
}

/** Text form of the outputs. */
export function renderOutputs(outputs: StackOutputs): string {
  const lines = ['Outputs:'];
  lines.push(`  webhook_url = ${outputs.webhook_url ?? '(not created)'}`);
  const hint = outputs.api_key && outputs.api_key.includes('****') ? '   (secret: add --show-secrets to see it)' : '';
  lines.push(`  api_key     = ${outputs.api_key ?? '(not created)'}${hint}`);
  return lines.join('\n');
}
