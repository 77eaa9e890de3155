// The Nx generator entry: a committed file at the package root, so Nx inside the bevzip workspace
// loads the built generator instead of guessing its TypeScript source (which it cannot run).
try {
  require.resolve('./dist/generator.js');
} catch {
  throw new Error('@bevzip/create-plugin is not built yet; run `npx nx build @bevzip/create-plugin` first.');
}
module.exports = require('./dist/generator.js');
