import { definePlugin, PLUGIN_API_VERSION, type Graph } from '@bevzip/ir';
import { magnitudePruning } from '@bevzip/ir/testing';
import { z } from 'zod';
import { PluginTester } from './plugin-tester';
import type { TestFramework } from './test-framework';

/** Collects registered tests instead of running them, so the tester's own behaviour can be checked. */
function recordingFramework() {
  const tests: { title: string; mode: 'it' | 'only' | 'skip'; fn: () => void | Promise<void> }[] = [];
  const path: string[] = [];
  const framework: TestFramework = {
    describe: (name, fn) => {
      path.push(name);
      fn();
      path.pop();
    },
    it: (name, fn) => tests.push({ title: [...path, name].join(' > '), mode: 'it', fn }),
    itOnly: (name, fn) => tests.push({ title: [...path, name].join(' > '), mode: 'only', fn }),
    itSkip: (name, fn) => tests.push({ title: [...path, name].join(' > '), mode: 'skip', fn }),
  };
  return { framework, tests };
}

// The plugin mutates the graph it is given instead of returning a new one.
const mutating = definePlugin({
  name: 'mutating',
  version: '0.0.1',
  apiVersion: `^${PLUGIN_API_VERSION}`,
  description: 'renames the graph in place',
  options: z.object({}),
  hooks: () => ({ transform: (graph: Graph) => void ((graph as { name: string }).name = 'renamed') }),
});

describe('PluginTester', () => {
  it('registers valid and invalid cases under the plugin name, honouring only and skip', () => {
    const { framework, tests } = recordingFramework();
    new PluginTester({ framework }).run('magnitude-pruning', magnitudePruning, {
      valid: [{ name: 'a', options: { sparsity: 0.5 }, only: true }, { name: 'b', options: { sparsity: 0.1 }, skip: true }],
      invalid: [{ name: 'c', options: { sparsity: 3 }, expect: { error: /sparsity/ } }],
    });
    expect(tests.map((t) => [t.title, t.mode])).toEqual([
      ['magnitude-pruning > valid > a', 'only'],
      ['magnitude-pruning > valid > b', 'skip'],
      ['magnitude-pruning > invalid > c', 'it'],
    ]);
  });

  it('rejects duplicate, unnamed and empty case tables, and misplaced error expectations', () => {
    const t = new PluginTester({ framework: recordingFramework().framework });
    const run = (cases: Parameters<PluginTester['run']>[2]) => () => t.run('p', magnitudePruning, cases);
    expect(run({ valid: [], invalid: [] })).toThrow("plugin tester 'p': no cases given");
    expect(run({ valid: [{ name: 'x', options: {} }, { name: 'x', options: {} }], invalid: [] })).toThrow("duplicate case name 'x'");
    expect(run({ valid: [{ name: ' ', options: {} }], invalid: [] })).toThrow('a valid case has no name');
    expect(run({ valid: [], invalid: [{ name: 'y', options: {} }] })).toThrow("invalid case 'y' needs expect.error");
    expect(run({ valid: [{ name: 'z', options: {}, expect: { error: /a/ } }], invalid: [] })).toThrow("valid case 'z' must not expect an error");
  });

  it('fails a valid case whose plugin mutates the frozen input graph', async () => {
    const { framework, tests } = recordingFramework();
    new PluginTester({ framework }).run('mutating', mutating, { valid: [{ name: 'renames', options: {} }], invalid: [] });
    await expect(tests[0].fn()).rejects.toMatchObject({ code: 'E_PLUGIN_HOOK', message: expect.stringMatching(/plugin 'mutating' failed in hook 'transform': Cannot assign to read only property 'name'/) });
  });

  it('fails a valid case whose masked fraction differs, and an invalid case that runs', async () => {
    const { framework, tests } = recordingFramework();
    new PluginTester({ framework }).run('magnitude-pruning', magnitudePruning, {
      valid: [{ name: 'wrong fraction', options: { sparsity: 0.5 }, expect: { maskedFraction: 0.25 } }],
      invalid: [{ name: 'actually fine', options: { sparsity: 0.5 }, expect: { error: /x/ } }],
    });
    await expect(tests[0].fn()).rejects.toThrow("case 'wrong fraction': masked fraction 0.5, expected 0.25");
    await expect(tests[1].fn()).rejects.toThrow("case 'actually fine': expected an error matching /x/, but the run succeeded");
  });
});
