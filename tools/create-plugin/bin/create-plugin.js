#!/usr/bin/env node
// Committed launcher so npm links the bin at install time, before the TypeScript is built.
try {
  require.resolve('../dist/main.js');
} catch {
  process.stderr.write('create-plugin: not built yet; run `npm run build` in the bevzip workspace first.\n');
  process.exit(1);
}
require('../dist/main.js');
