import 'reflect-metadata';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { container as rootContainer } from 'tsyringe';
import { PLUGIN, type Plugin } from '@bevzip/ir';
import { plugins, register } from './index';

const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { bevzip: { plugins: Record<string, string> } };

/** What one register puts under PLUGIN in a fresh child container. */
function registered(fn: (c: typeof rootContainer, o?: object) => void, options?: object): Plugin[] {
  const child = rootContainer.createChildContainer();
  fn(child, options);
  return child.resolveAll<Plugin>(PLUGIN);
}

describe('the named plugins of the package', () => {
  it('are exactly the names package.json declares, which bevzip reads without loading the package', () => {
    expect(Object.keys(plugins)).toEqual(Object.keys(manifest.bevzip.plugins));
    for (const about of Object.values(manifest.bevzip.plugins)) expect(about.length).toBeGreaterThan(10);
  });

  it.each([
    ['altermoma', 'altermoma'],
    ['magnitude', 'prune-magnitude'],
    ['snip', 'prune-snip'],
    ['synflow', 'prune-synflow'],
    ['imp', 'prune-imp'],
    ['prune-kd', 'prune-kd'],
  ] as const)('%s registers the one plugin %s with the options given', (key, name) => {
    const options = key === 'prune-kd' ? { weight: 0.5 } : { sparsity: 0.3 };
    const list = registered(plugins[key], options);
    expect(list.map((p) => [p.name, p.rawOptions])).toEqual([[name, options]]);
    expect(rootContainer.isRegistered(PLUGIN, true)).toBe(false);
  });

  it('register() is AlterMOMA, the package default', () => {
    expect(plugins.altermoma).toBe(register);
    expect(registered(register).map((p) => p.name)).toEqual(['altermoma']);
  });
});
