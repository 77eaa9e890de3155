/** Median wall time in milliseconds of `fn` over `repeats` runs, after `warmup` untimed runs. */
export async function medianMs(fn: () => unknown | Promise<unknown>, repeats = 15, warmup = 2): Promise<number> {
  const [ms] = await interleavedMedians([fn], repeats, warmup);
  return ms;
}

/**
 * Median times of several functions measured in alternation (a, b, a, b, …), so a change in machine
 * load during the measurement affects all of them alike and their ratio stays meaningful.
 */
export async function interleavedMedians(fns: (() => unknown | Promise<unknown>)[], repeats = 15, warmup = 2): Promise<number[]> {
  for (let i = 0; i < warmup; i++) for (const fn of fns) await fn();
  const times = fns.map(() => [] as number[]);
  for (let i = 0; i < repeats; i++) {
    for (let k = 0; k < fns.length; k++) {
      const start = performance.now();
      await fns[k]();
      times[k].push(performance.now() - start);
    }
  }
  return times.map((t) => t.sort((a, b) => a - b)[Math.floor(t.length / 2)]);
}

export const round = (v: number, digits = 3) => Number(v.toFixed(digits));
