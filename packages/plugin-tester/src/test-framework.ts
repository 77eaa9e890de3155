/** The test functions the tester registers cases with; swap it to run under mocha, node:test or vitest. */
export interface TestFramework {
  describe(name: string, fn: () => void): void;
  it(name: string, fn: () => void | Promise<void>): void;
  itOnly(name: string, fn: () => void | Promise<void>): void;
  itSkip(name: string, fn: () => void | Promise<void>): void;
}

interface JestLikeGlobals {
  describe: (name: string, fn: () => void) => void;
  it: ((name: string, fn: () => unknown) => void) & { only: (name: string, fn: () => unknown) => void; skip: (name: string, fn: () => unknown) => void };
}

/** Uses the `describe`/`it` globals of jest (or any runner with the same globals), looked up at call time. */
export const jestGlobalsFramework: TestFramework = {
  describe: (name, fn) => globals().describe(name, fn),
  it: (name, fn) => globals().it(name, fn),
  itOnly: (name, fn) => globals().it.only(name, fn),
  itSkip: (name, fn) => globals().it.skip(name, fn),
};

function globals(): JestLikeGlobals {
  const g = globalThis as unknown as Partial<JestLikeGlobals>;
  if (typeof g.describe !== 'function' || typeof g.it !== 'function') {
    throw new Error('no describe/it globals found: run inside a test runner, or pass a TestFramework to PluginTester');
  }
  return g as JestLikeGlobals;
}
