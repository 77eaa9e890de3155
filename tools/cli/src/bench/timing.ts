/** Median wall time in milliseconds of `fn` over `repeats` runs, after `warmup` untimed runs. */
export async function medianMs(fn: () => unknown | Promise<unknown>, repeats = 15, warmup = 2): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

export const round = (v: number, digits = 3) => Number(v.toFixed(digits));
