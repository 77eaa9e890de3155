// Installs a project from local tarballs and the npm cache alone. A fresh project resolves version
// ranges to the newest versions the cached registry metadata lists, whose tarballs the workspace
// install may never have fetched; pinning every such package to the version the workspace lockfile
// holds keeps the install inside the cache (and on the third-party versions bevzip is tested with).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** name → set of versions in a package-lock.json (lockfile v2/v3 `packages`). */
export function lockVersions(lockFile) {
  const packages = JSON.parse(fs.readFileSync(lockFile, 'utf8')).packages ?? {};
  const versions = new Map();
  for (const [key, entry] of Object.entries(packages)) {
    const at = key.lastIndexOf('node_modules/');
    if (at < 0 || entry.link || !entry.version) continue;
    const name = key.slice(at + 'node_modules/'.length);
    if (!versions.has(name)) versions.set(name, new Map());
    versions.get(name).set(entry.version, { key, resolved: entry.resolved });
  }
  return versions;
}

/** Packages of `lockFile` (not from local tarballs) at a version the workspace lock does not hold. */
export function driftFrom(lockFile, workspace) {
  const drift = [];
  for (const [name, versions] of lockVersions(lockFile)) {
    for (const [version, { resolved }] of versions) {
      if (resolved?.startsWith('file:')) continue;
      if (!workspace.get(name)?.has(version)) drift.push({ name, version, workspace: [...(workspace.get(name)?.keys() ?? [])] });
    }
  }
  return drift;
}

/** The workspace version nearest below `version` (same major first), so the pin keeps the range's intent. */
function closest(version, candidates) {
  const parse = (v) => v.split(/[.+-]/).slice(0, 3).map(Number);
  const cmp = (a, b) => {
    const [x, y] = [parse(a), parse(b)];
    return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
  };
  const sorted = [...candidates].sort(cmp);
  const major = parse(version)[0];
  const same = sorted.filter((v) => parse(v)[0] === major);
  return (same.length ? same : sorted).filter((v) => cmp(v, version) <= 0).pop() ?? (same.length ? same : sorted)[0];
}

function npm(args, cwd, env) {
  const r = spawnSync('npm', args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8' });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}`.split('\n').filter((l) => !/npm warn (Unknown|EBADENGINE|  )/.test(l)).join('\n') };
}

// Any request that escapes the cache goes to a closed port and fails at once.
const NO_NETWORK = { npm_config_proxy: 'http://127.0.0.1:9', npm_config_https_proxy: 'http://127.0.0.1:9', HTTPS_PROXY: 'http://127.0.0.1:9', HTTP_PROXY: 'http://127.0.0.1:9' };

/**
 * `npm install --offline` in `dir` with the given extra specs (tarball paths); pins drifted
 * third-party packages to the workspace's versions through `overrides` in dir/package.json first.
 * Returns the pins it added. Throws with npm's output when the install still needs the network.
 */
export function installOffline(dir, { specs = [], workspaceLock, save = true, log = () => {} }) {
  const workspace = lockVersions(workspaceLock);
  const pkgFile = path.join(dir, 'package.json');
  const pins = {};
  const flags = ['--offline', '--no-audit', '--no-fund', '--omit-lockfile-registry-resolved=false', ...(save ? [] : ['--no-save'])];
  // A workspace install from a lockfile caches tarballs but not the registry metadata a fresh
  // project needs to resolve ranges, so fetch that metadata once (npm registry only, no tarballs);
  // the install below still runs offline and proves every tarball comes from the cache.
  const warm = npm(['install', '--package-lock-only', '--prefer-offline', '--no-audit', '--no-fund', '--no-save', ...specs], dir);
  if (!warm.ok) throw new Error(`fetching registry metadata for the fresh project failed:\n${warm.output}`);
  fs.rmSync(path.join(dir, 'package-lock.json'), { force: true });
  for (let round = 0; round < 5; round++) {
    const r = npm(['install', '--package-lock-only', ...flags, ...specs], dir, NO_NETWORK);
    if (!r.ok) throw new Error(`resolving the dependency tree from the npm cache failed:\n${r.output}`);
    const drift = driftFrom(path.join(dir, 'package-lock.json'), workspace).filter((d) => d.workspace.length > 0 && !(`${d.name}@${d.version}` in pins));
    if (drift.length === 0) break;
    const pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf8'));
    for (const d of drift) {
      const chosen = closest(d.version, d.workspace);
      pins[`${d.name}@${d.version}`] = chosen;
      log(`pin ${d.name} ${d.version} → ${chosen} (the workspace's version)`);
    }
    pkg.overrides = { ...(pkg.overrides ?? {}), ...pins };
    fs.writeFileSync(pkgFile, JSON.stringify(pkg, null, 2) + '\n');
    fs.rmSync(path.join(dir, 'package-lock.json'), { force: true });
  }
  const r = npm(['install', ...flags, ...specs], dir, NO_NETWORK);
  if (!r.ok) throw new Error(`npm install --offline failed (a package is missing from the npm cache the workspace install filled):\n${r.output}`);
  return pins;
}
