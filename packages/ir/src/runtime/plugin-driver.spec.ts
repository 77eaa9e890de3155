import 'reflect-metadata';
import { container as globalContainer, type DependencyContainer } from 'tsyringe';
import { z } from 'zod';
import { BevzipError } from '../errors';
import { definePlugin, PLUGIN_API_VERSION } from './plugin';
import { PluginDriver } from './plugin-driver';
import { PLUGIN, pluginRegister, type NamedPlugins } from './tokens';
import { featureDistillation, magnitudePruning } from './testing/example-plugins';

const options = z.object({ schedule: z.object({ sparsity: z.number().max(1) }), layers: z.array(z.string()).default([]) });
const make = (over: Partial<{ name: string; apiVersion: string; hooks: () => object }> = {}) =>
  definePlugin({ name: 'p', version: '2.3.4', apiVersion: '^1.0.0', description: 'test', options, hooks: () => ({}), ...over } as Parameters<typeof definePlugin<typeof options>>[0]);

function caught(fn: () => unknown): BevzipError {
  try {
    fn();
  } catch (e) {
    if (e instanceof BevzipError) return e;
    throw e;
  }
  throw new Error('expected a BevzipError');
}

describe('PluginDriver', () => {
  it('names the plugin, its range and the IR version on an apiVersion mismatch', () => {
    const e = caught(() => new PluginDriver().use(make({ apiVersion: '^2.0.0' })({ schedule: { sparsity: 0.5 } })).start());
    expect(e.code).toBe('E_PLUGIN_API_VERSION');
    expect(e.message).toBe(`plugin 'p' (2.3.4) requires plugin API ^2.0.0, but @bevzip/ir implements plugin API ${PLUGIN_API_VERSION}`);
  });

  it('rejects an apiVersion that is not a semver range', () => {
    expect(caught(() => new PluginDriver().use(make({ apiVersion: 'one' })()).start()).message).toMatch(/plugin 'p' declares apiVersion 'one', which is not a semver range/);
  });

  it('reports invalid options with the plugin name and the option path', () => {
    const e = caught(() => new PluginDriver().use(make()({ schedule: { sparsity: 2 }, layers: ['a', 3 as unknown as string] })).start());
    expect(e.code).toBe('E_PLUGIN_OPTIONS');
    expect(e.message).toMatch(/^plugin 'p': invalid options: option 'schedule\.sparsity': .*; option 'layers\[1\]': /);
  });

  it('rejects two plugins with the same name', () => {
    const p = make()({ schedule: { sparsity: 0 } });
    const e = caught(() => new PluginDriver().use(p).use(p).start());
    expect([e.code, e.message]).toEqual(['E_PLUGIN_DUPLICATE', "plugin 'p' is registered twice"]);
  });

  it('rejects an unknown hook name', () => {
    const e = caught(() => new PluginDriver().use(make({ hooks: () => ({ scroe: () => undefined }) })({ schedule: { sparsity: 0 } })).start());
    expect(e.code).toBe('E_PLUGIN_HOOK');
    expect(e.message).toMatch(/plugin 'p' defines unknown hook 'scroe'; hooks are: setup, transform/);
  });

  it('re-raises errors thrown in sync and async hooks as E_PLUGIN_HOOK with plugin and hook', async () => {
    const boom = () => {
      throw new Error('boom');
    };
    const driver = new PluginDriver().use(make({ hooks: () => ({ mask: boom, setup: async () => boom() }) })({ schedule: { sparsity: 0 } }));
    driver.start();
    const sync = caught(() => driver.hookReduce('mask', 0, () => [undefined as never, undefined as never], (a) => a));
    expect([sync.code, sync.message]).toEqual(['E_PLUGIN_HOOK', "plugin 'p' failed in hook 'mask': boom"]);
    expect((sync.cause as Error).message).toBe('boom');
    await expect(driver.hookSequential('setup', () => [undefined as never])).rejects.toMatchObject({ code: 'E_PLUGIN_HOOK', message: "plugin 'p' failed in hook 'setup': boom" });
  });

  it('refuses a Promise from a synchronous hook', () => {
    const driver = new PluginDriver().use(make({ hooks: () => ({ loss: async () => ({}) }) })({ schedule: { sparsity: 0 } }));
    driver.start();
    expect(caught(() => driver.hookReduce('loss', [], () => [undefined as never], (a) => a)).message).toMatch(/hook 'loss' is synchronous but returned a Promise/);
  });

  it('freezes once started', () => {
    const driver = new PluginDriver();
    driver.start();
    const e = caught(() => driver.use(make()({ schedule: { sparsity: 0 } })));
    expect([e.code, e.message]).toEqual(['E_FROZEN', 'cannot call use(): the plugin set is frozen once the run has started']);
    expect(caught(() => driver.start()).code).toBe('E_FROZEN');
  });

  it('resolves every plugin a package registered in a container, in registration order', async () => {
    const register = (c: typeof globalContainer) => {
      c.register(PLUGIN, { useValue: magnitudePruning({ sparsity: 0.5 }) });
      c.register(PLUGIN, { useValue: featureDistillation({ tap: 'x' }) });
    };
    const child = globalContainer.createChildContainer();
    register(child);
    const names = new PluginDriver(child).start().map((p) => p.name);
    expect(names).toEqual(['magnitude-pruning', 'feature-distillation']);
    expect(globalContainer.isRegistered(PLUGIN, true)).toBe(false);
  });

  it('gives hooks the parsed options with defaults filled in', () => {
    const [loaded] = new PluginDriver().use(featureDistillation({ tap: 'f' })).start();
    expect(loaded.options).toEqual({ tap: 'f', weight: 1 });
    expect(loaded.requires).toEqual({ taps: ['f'], teacher: { taps: ['f'] } });
  });
});

describe('PluginDriver: plugin options and per-stage instances', () => {
  /** A package registering a quantizer from `options.quantize` and, when asked, a distiller from `options.distill`. */
  const q = definePlugin({ name: 'q', version: '1.0.0', apiVersion: '^1.0.0', description: 'q', options: z.strictObject({ wBits: z.number().int().min(2).max(8).default(4) }), hooks: () => ({}) });
  const d = definePlugin({ name: 'd', version: '1.0.0', apiVersion: '^1.0.0', description: 'd', options: z.strictObject({ weight: z.number().positive() }), hooks: () => ({}) });
  let registerCalls = 0;
  const register = (c: DependencyContainer, o: unknown) => {
    registerCalls++;
    const opts = o as { quantize?: object; distill?: { weight: number } };
    c.register(PLUGIN, { useValue: q(opts.quantize, { optionsPath: ['quantize'] }) });
    if (opts.distill) c.register(PLUGIN, { useValue: d(opts.distill, { optionsPath: ['distill'] }) });
  };
  const at = (i: number, j: number) => ['stages', i, 'plugins', j, 'options'];
  beforeEach(() => (registerCalls = 0));

  it('makes one instance of a package listed in several stages with the same options', () => {
    const driver = new PluginDriver();
    const opts = { quantize: { wBits: 4 }, distill: { weight: 1 } };
    const stages = driver.useStages(
      [
        { name: 'a', uses: [{ package: 'qd', options: opts, register, optionsPath: at(0, 0) }] },
        { name: 'b', uses: [{ package: 'qd', options: structuredClone(opts), register, optionsPath: at(1, 0) }] },
        { name: 'c', uses: [] },
      ],
      globalContainer,
    );
    expect(registerCalls).toBe(1);
    expect(stages).toEqual([['q', 'd'], ['q', 'd'], []]);
    expect(driver.start().map((p) => [p.name, p.options])).toEqual([['q', { wBits: 4 }], ['d', { weight: 1 }]]);
    expect(globalContainer.isRegistered(PLUGIN, true)).toBe(false);
  });

  it('gives each differently configured use its own instance, named after its first stage', () => {
    const driver = new PluginDriver();
    const stages = driver.useStages(
      [
        { name: 'a', uses: [{ package: 'qd', options: { quantize: { wBits: 4 } }, register }] },
        { name: 'b', uses: [{ package: 'qd', options: { quantize: { wBits: 8 } }, register }] },
        { name: 'c', uses: [{ package: 'qd', options: { quantize: { wBits: 4 } }, register }] },
      ],
      globalContainer,
    );
    expect(stages).toEqual([['q@a'], ['q@b'], ['q@a']]);
    expect(driver.start().map((p) => [p.name, p.options])).toEqual([['q@a', { wBits: 4 }], ['q@b', { wBits: 8 }]]);
  });

  it('keys instances by the named plugin too: two of one package in one stage are both active, each one instance across stages', () => {
    const named = { quant: pluginRegister(q), dist: pluginRegister(d) } satisfies NamedPlugins;
    const driver = new PluginDriver();
    const stages = driver.useStages(
      [
        { name: 'a', uses: [{ package: 'qd', plugin: 'quant', options: {}, register: named.quant }, { package: 'qd', plugin: 'dist', options: { weight: 2 }, register: named.dist, optionsPath: at(0, 1) }] },
        { name: 'b', uses: [{ package: 'qd', plugin: 'dist', options: { weight: 2 }, register: named.dist }] },
        { name: 'c', uses: [{ package: 'qd', options: {}, register }] },
      ],
      globalContainer,
    );
    // The package's own register (stage c) is another use than its named 'quant', though both make a 'q'.
    expect(stages).toEqual([['q@a', 'd'], ['d'], ['q@c']]);
    expect(driver.start().map((p) => [p.name, p.options])).toEqual([['q@a', { wBits: 4 }], ['d', { weight: 2 }], ['q@c', { wBits: 4 }]]);
    expect(registerCalls).toBe(1);
  });

  it('reports a named plugin\'s option issues at its use', () => {
    const driver = new PluginDriver();
    driver.useStages([{ name: 'a', uses: [{ package: 'qd', plugin: 'dist', options: { weight: -1 }, register: pluginRegister(d), optionsPath: at(0, 3) }] }], globalContainer);
    expect(driver.check().map((i) => [i.plugin, i.path.join('.')])).toEqual([['d', 'stages.0.plugins.3.options.weight']]);
  });

  it('returns every option issue at its full path, then start() throws them all', () => {
    const driver = new PluginDriver();
    driver.useStages(
      [
        { name: 'a', uses: [{ package: 'other', options: {}, register: (c) => c.register(PLUGIN, { useValue: featureDistillation({ tap: 'f' }) }), optionsPath: at(0, 0) }] },
        { name: 'b', uses: [{ package: 'qd', options: { quantize: { wBits: 9, extra: true }, distill: { weight: -1 } }, register, optionsPath: at(1, 1) }] },
      ],
      globalContainer,
    );
    const issues = driver.check();
    expect(issues.map((i) => [i.code, i.plugin, i.path.join('.'), i.option?.join('.')])).toEqual([
      ['E_PLUGIN_OPTIONS', 'q', 'stages.1.plugins.1.options.quantize.wBits', 'wBits'],
      ['E_PLUGIN_OPTIONS', 'q', 'stages.1.plugins.1.options.quantize', ''],
      ['E_PLUGIN_OPTIONS', 'd', 'stages.1.plugins.1.options.distill.weight', 'weight'],
    ]);
    expect(issues[1].message).toMatch(/extra/);
    const e = caught(() => driver.start());
    expect(e.code).toBe('E_PLUGIN_OPTIONS');
    expect(e.issues).toEqual(issues);
    expect(e.message).toBe(
      [`plugin 'q': invalid options: option 'wBits': ${issues[0].message}; option '(root)': ${issues[1].message}`, `plugin 'd': invalid options: option 'weight': ${issues[2].message}`].join('\n'),
    );
    expect(driver.frozen).toBe(false);
  });

  it('parses each plugin\'s options once, however often it is checked', () => {
    let parses = 0;
    const counted = definePlugin({ name: 'counted', version: '1.0.0', apiVersion: '^1.0.0', description: 'c', options: z.object({ k: z.number().default(1) }).transform((o) => (parses++, o)), hooks: () => ({}) });
    const driver = new PluginDriver().use(counted({}));
    expect(driver.check()).toEqual([]);
    expect(driver.check()).toEqual([]);
    expect(driver.start()[0].options).toEqual({ k: 1 });
    expect(parses).toBe(1);
  });

  it('reports API range and duplicate problems as issues at the use', () => {
    const future = definePlugin({ name: 'future', version: '3.0.0', apiVersion: '^9.0.0', description: 'f', options: z.object({}), hooks: () => ({}) });
    const driver = new PluginDriver().use(future(), at(0, 2)).use(q(), at(0, 0)).use(q(), at(1, 0));
    expect(driver.check().map((i) => [i.code, i.path.join('.')])).toEqual([
      ['E_PLUGIN_API_VERSION', 'stages.0.plugins.2.options'],
      ['E_PLUGIN_DUPLICATE', 'stages.1.plugins.0.options'],
    ]);
    expect(caught(() => driver.start()).code).toBe('E_PLUGIN_API_VERSION');
  });
});
