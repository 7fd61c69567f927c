import { loadSharedConfigFiles } from '@smithy/shared-ini-file-loader';

/**
 * The region to use when neither --region nor the state file names one, in the AWS CLI's order:
 * AWS_REGION, AWS_DEFAULT_REGION, the profile's `region` in ~/.aws/config. Undefined when none does.
 */
export async function regionFromEnvironment(profile?: string): Promise<string | undefined> {
  const fromEnv = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION;
  if (fromEnv) return fromEnv;
  try {
    const { configFile, credentialsFile } = await loadSharedConfigFiles();
    const name = profile ?? process.env.AWS_PROFILE ?? 'default';
    return configFile[name]?.region ?? credentialsFile[name]?.region;
  } catch {
    return undefined;
  }
}
