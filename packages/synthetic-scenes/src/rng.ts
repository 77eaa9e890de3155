/**
 * Seeded random numbers for the synthetic world. Every purpose (layout, objects, appearance,
 * LiDAR noise, camera noise, …) draws from its own substream keyed by hash(seed, scene, purpose),
 * so adding draws to one purpose never shifts the values another purpose sees.
 */

/** Module-scope alias: global lookups are slow inside vm contexts (jest, sandboxes), and this is hot code. */
const math = Math;

/** murmur3 fmix32 finaliser: a bijective 32-bit avalanche mix. */
export function mix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Order-sensitive 32-bit hash of numbers (taken as uint32) and strings (UTF-16 code units). */
export function hash32(...parts: (number | string)[]): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    if (typeof part === 'number') {
      h = mix32(h ^ mix32((part >>> 0) + 0x9e3779b9));
    } else {
      h = mix32(h ^ 0x5bd1e995);
      for (let i = 0; i < part.length; i++) h = mix32(h ^ (part.charCodeAt(i) + 0x27d4eb2f));
    }
  }
  return h;
}

/** 128-bit hex token (32 lowercase hex digits) derived from the parts, for stable ids. */
export function hexToken(...parts: (number | string)[]): string {
  let out = '';
  for (let k = 0; k < 4; k++) out += hash32(...parts, 'token', k).toString(16).padStart(8, '0');
  return out;
}

/** splitmix32 generator: state advances by the golden-ratio increment, output is mixed. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Next uniform 32-bit unsigned integer. */
  nextU32(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = math.imul(z ^ (z >>> 15), 0x735a2d97);
    return (z ^ (z >>> 15)) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform in [a, b). */
  uniform(a: number, b: number): number {
    return a + (b - a) * this.next();
  }

  /** Uniform integer in [a, b). */
  int(a: number, b: number): number {
    return a + math.floor((b - a) * this.next());
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Standard normal via Box–Muller (one value per call keeps the stream easy to reason about). */
  normal(mean = 0, sigma = 1): number {
    const u = 1 - this.next();
    const v = this.next();
    return mean + sigma * math.sqrt(-2 * math.log(u)) * math.cos(2 * math.PI * v);
  }

  /** Exponential with the given mean. */
  exponential(mean: number): number {
    return -mean * math.log(1 - this.next());
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length)];
  }
}

/** The independent stream for one purpose of one scene (extra keys e.g. a frame index). */
export function substream(seed: number, sceneIndex: number, purpose: string, ...extra: number[]): Rng {
  return new Rng(hash32(seed, sceneIndex, purpose, ...extra));
}
