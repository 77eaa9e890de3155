/**
 * Mersenne Twister MT19937 with the seeding and draw functions of numpy's legacy `RandomState`
 * and of Python's `random` module, so that randomised reference scenarios from the nuScenes
 * devkit's tests can be regenerated draw for draw.
 */
export class Mt19937 {
  private readonly mt = new Uint32Array(624);
  private index = 624;

  private constructor() {}

  /** numpy `np.random.seed(seed)` for an integer seed. */
  static numpySeed(seed: number): Mt19937 {
    const g = new Mt19937();
    g.initGenrand(seed >>> 0);
    return g;
  }

  /** Python `random.seed(seed)` for a non-negative integer below 2³². */
  static pythonSeed(seed: number): Mt19937 {
    const g = new Mt19937();
    g.initByArray([seed >>> 0]);
    return g;
  }

  private initGenrand(s: number): void {
    const mt = this.mt;
    mt[0] = s;
    for (let i = 1; i < 624; i++) mt[i] = (Math.imul(1812433253, mt[i - 1] ^ (mt[i - 1] >>> 30)) + i) >>> 0;
    this.index = 624;
  }

  private initByArray(key: number[]): void {
    const mt = this.mt;
    this.initGenrand(19650218);
    let i = 1;
    let j = 0;
    for (let k = Math.max(624, key.length); k > 0; k--) {
      mt[i] = ((mt[i] ^ Math.imul(mt[i - 1] ^ (mt[i - 1] >>> 30), 1664525)) + key[j] + j) >>> 0;
      i++;
      j++;
      if (i >= 624) {
        mt[0] = mt[623];
        i = 1;
      }
      if (j >= key.length) j = 0;
    }
    for (let k = 623; k > 0; k--) {
      mt[i] = ((mt[i] ^ Math.imul(mt[i - 1] ^ (mt[i - 1] >>> 30), 1566083941)) - i) >>> 0;
      i++;
      if (i >= 624) {
        mt[0] = mt[623];
        i = 1;
      }
    }
    mt[0] = 0x80000000;
  }

  private twist(): void {
    const mt = this.mt;
    for (let i = 0; i < 624; i++) {
      const y = (mt[i] & 0x80000000) | (mt[(i + 1) % 624] & 0x7fffffff);
      mt[i] = (mt[(i + 397) % 624] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0)) >>> 0;
    }
    this.index = 0;
  }

  /** Next raw 32-bit output. */
  nextUint32(): number {
    if (this.index >= 624) this.twist();
    let y = this.mt[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** Uniform double in [0, 1) with 53 random bits (`np.random.rand`, `random.random`). */
  random(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** `n` uniform doubles (`np.random.rand(n)`). */
  rand(n: number): number[] {
    return Array.from({ length: n }, () => this.random());
  }

  /** Integer in [low, high) by masked rejection (numpy legacy `randint`, ranges below 2³²). */
  randint(low: number, high: number): number {
    const rng = high - low - 1;
    if (rng === 0) return low;
    let mask = rng;
    for (let s = 1; s <= 16; s <<= 1) mask |= mask >>> s;
    let v: number;
    do v = (this.nextUint32() & mask) >>> 0;
    while (v > rng);
    return low + v;
  }
}
