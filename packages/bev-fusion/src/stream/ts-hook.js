'use strict';
// Entry of the batch worker when the package runs from its TypeScript sources (jest, ts tooling):
// a worker thread is a fresh Node context that knows nothing of the parent's transpiler, so this
// file teaches `require` to compile .ts with @swc/core (the compiler jest already uses) and then
// loads the real entry named in workerData. Built packages start `batch-worker.js` directly.
// Outside a worker it is a plain preload (`node -r ./ts-hook.js`) that only registers the compiler.
const fs = require('node:fs');
const { workerData } = require('node:worker_threads');
const swc = require('@swc/core');

const options = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
  },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
};

require.extensions['.ts'] = function compileTs(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const { code } = swc.transformSync(source, { ...options, filename });
  module._compile(code, filename);
};

if (workerData && workerData.entry) require(workerData.entry);
