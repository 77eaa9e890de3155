import { createHash } from 'node:crypto';

/**
 * A deterministic 32-hex-digit token (the length nuScenes uses) from stable keys, e.g.
 * `makeToken('instance', sceneName, instanceId)`. The same keys always give the same token.
 */
export function makeToken(...keys: Array<string | number>): string {
  return createHash('md5').update(keys.map(String).join('\u0000')).digest('hex');
}
