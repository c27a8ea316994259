/**
 * Gateway cache presets for `paths:` — `{ preset: cloudflare-ai-gateway-cache }` is a path named
 * `cache` taken when the gateway says it answered from its cache. Only headers the gateway's own
 * documentation names are here (sources in README, "Named paths"):
 *
 *   cloudflare-ai-gateway-cache  cf-aig-cache-status: HIT | MISS
 *   portkey-cache                x-portkey-cache-status: HIT | SEMANTIC HIT | MISS | SEMANTIC MISS | DISABLED | REFRESH
 *   kong-proxy-cache             X-Cache-Status: Hit | Miss | Refresh | Bypass (Kong's proxy-cache plugin)
 */
import type { FallbackSignal } from './profile-types.js';

export interface PathPreset {
  /** the path's default name */
  name: string;
  signals: FallbackSignal[];
  /** where the header is documented */
  source: string;
}

export const PATH_PRESETS = {
  'cloudflare-ai-gateway-cache': {
    name: 'cache',
    signals: [{ kind: 'equals', header: 'cf-aig-cache-status', value: 'HIT' }],
    source: 'https://developers.cloudflare.com/ai-gateway/features/caching/',
  },
  'portkey-cache': {
    name: 'cache',
    // a simple or a semantic cache hit; MISS, SEMANTIC MISS, DISABLED and REFRESH went upstream
    signals: [{ kind: 'matches', header: 'x-portkey-cache-status', pattern: '^(SEMANTIC )?HIT$' }],
    source: 'https://portkey.ai/docs/api-reference/response-schema',
  },
  'kong-proxy-cache': {
    name: 'cache',
    signals: [{ kind: 'equals', header: 'x-cache-status', value: 'Hit' }],
    source: 'https://developer.konghq.com/kubernetes-ingress-controller/get-started/proxy-caching',
  },
} as const satisfies Record<string, PathPreset>;

export type PathPresetName = keyof typeof PATH_PRESETS;
export const PATH_PRESET_NAMES = Object.keys(PATH_PRESETS) as PathPresetName[];

export function isPathPreset(name: string): name is PathPresetName {
  return Object.hasOwn(PATH_PRESETS, name);
}
