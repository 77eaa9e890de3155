import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { HookName, PluginHooks } from './hooks';
import { HOOK_NAMES } from './hooks';
import { Pipeline } from './pipeline';
import { definePlugin } from './plugin';
import { mseTaskLoss, tinyConvGraph, tinyData, tinyTeacher } from './testing/tiny-pipeline';

/** A plugin that records every hook call as `name:hook`, with the given order on all its hooks. */
function recorder(name: string, log: string[], order?: 'pre' | 'post') {
  const hooks = {} as Record<HookName, unknown>;
  for (const hook of Object.keys(HOOK_NAMES) as HookName[]) {
    const handler = (...args: unknown[]) => {
      log.push(`${name}:${hook}`);
      if (hook === 'observe') return () => log.push(`${name}:teardown`);
      if (hook === 'loss') return { zero: tf.scalar(0) };
      if (hook === 'transform') return args[0];
      return undefined;
    };
    hooks[hook] = order ? { handler, order } : handler;
  }
  return definePlugin({ name, version: '1.0.0', apiVersion: '^1.0.0', description: 'records hook calls', options: z.object({}), hooks: () => hooks as PluginHooks })();
}

async function runWith(plugins: ReturnType<typeof recorder>[]): Promise<void> {
  const graph = tinyConvGraph();
  const pipeline = new Pipeline({
    seed: 1,
    graph,
    stages: [{ name: 'only', steps: 1, data: tinyData(), taskLoss: mseTaskLoss, teacher: tinyTeacher(graph, 1) }],
  });
  plugins.forEach((p) => pipeline.use(p));
  const { params, masks } = await pipeline.run();
  params.dispose();
  [...masks.params.values()].forEach((m) => m.dispose());
}

const each = (names: string[], hook: string) => names.map((n) => `${n}:${hook}`);

describe('hook order', () => {
  it('runs two plugins in registration order and tears down in reverse', async () => {
    const log: string[] = [];
    await runWith([recorder('a', log), recorder('b', log)]);
    const fwd = ['a', 'b'];
    const rev = ['b', 'a'];
    expect(log).toEqual([
      ...each(fwd, 'observe'), ...each(fwd, 'setup'), ...each(fwd, 'transform'), ...each(fwd, 'score'),
      ...each(fwd, 'mask'), ...each(fwd, 'quantize'), ...each(fwd, 'loss'),
      ...each(rev, 'finalize'), ...each(rev, 'teardown'),
    ]);
  });

  it('puts pre before normal before post for three plugins, and reverses all of it for teardown', async () => {
    const log: string[] = [];
    await runWith([recorder('late', log, 'post'), recorder('normal', log), recorder('early', log, 'pre')]);
    const fwd = ['early', 'normal', 'late'];
    const rev = ['late', 'normal', 'early'];
    expect(log).toEqual([
      ...each(fwd, 'observe'), ...each(fwd, 'setup'), ...each(fwd, 'transform'), ...each(fwd, 'score'),
      ...each(fwd, 'mask'), ...each(fwd, 'quantize'), ...each(fwd, 'loss'),
      ...each(rev, 'finalize'), ...each(rev, 'teardown'),
    ]);
  });
});
