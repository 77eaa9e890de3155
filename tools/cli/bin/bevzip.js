#!/usr/bin/env node
// Committed launcher so npm links the `bevzip` bin at install time, before the TypeScript is built.
try {
  require.resolve('../dist/main.js');
} catch {
  process.stderr.write('bevzip: the CLI is not built yet; run `npm run build` in the bevzip workspace first.\n');
  process.exit(1);
}
require('../dist/main.js');
