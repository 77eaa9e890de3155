import { pluginGenerator, type GeneratorTree } from './generator';

/** An in-memory tree with the semantics of Nx's: paths relative to the root, folders implied by files. */
class MemoryTree implements GeneratorTree {
  readonly root = '/workspace';
  readonly files = new Map<string, string>();
  exists(p: string) {
    return this.files.has(p) || this.children(p).length > 0;
  }
  children(dir: string) {
    const prefix = dir.replace(/\/+$/, '') + '/';
    return [...new Set([...this.files.keys()].filter((f) => f.startsWith(prefix)).map((f) => f.slice(prefix.length).split('/')[0]))];
  }
  write(p: string, content: string) {
    this.files.set(p, content);
  }
}

describe('pluginGenerator', () => {
  it('writes a workspace package under packages/plugin-<name> by default', () => {
    const tree = new MemoryTree();
    const done = pluginGenerator(tree, { name: 'x3kd' });
    expect(typeof done).toBe('function');
    expect(tree.children('packages/plugin-x3kd').sort()).toEqual(['README.md', 'jest.config.js', 'package.json', 'src', 'tsconfig.json', 'tsconfig.lib.json']);
    expect(JSON.parse(tree.files.get('packages/plugin-x3kd/package.json')!)).toMatchObject({ name: '@bevzip/plugin-x3kd', nx: { tags: ['scope:plugin'] } });
  });

  it('writes the standalone layout into a chosen directory', () => {
    const tree = new MemoryTree();
    pluginGenerator(tree, { name: '@acme/kd', flavor: 'standalone', directory: 'external/kd/' });
    expect(tree.files.has('external/kd/tsconfig.build.json')).toBe(true);
    expect(JSON.parse(tree.files.get('external/kd/package.json')!).dependencies['@bevzip/ir']).toMatch(/^\^\d+\.\d+\.\d+$/);
  });

  it('refuses a directory that already holds files', () => {
    const tree = new MemoryTree();
    tree.write('packages/plugin-x3kd/package.json', '{}');
    expect(() => pluginGenerator(tree, { name: 'x3kd' })).toThrow(/folder 'packages\/plugin-x3kd' is not empty/);
    expect(tree.files.size).toBe(1);
  });
});
