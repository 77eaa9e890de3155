import { InvalidArgumentError } from 'commander';

/** A commander parser for an integer ≥ `min`, with an error that names the expectation. */
export function integerAtLeast(min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^[+-]?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) {
      throw new InvalidArgumentError(`expected an integer ≥ ${min}, got '${value}'.`);
    }
    return n;
  };
}

/** A commander parser for a positive finite number. */
export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`expected a positive number, got '${value}'.`);
  return n;
}

/** Renders metric values for a table: 4 decimals, `n/a` for NaN. */
export function fixed(v: number): string {
  return Number.isFinite(v) ? v.toFixed(4) : 'n/a';
}
