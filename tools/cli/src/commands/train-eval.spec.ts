import { Command, CommanderError } from 'commander';
import { resolveTrainOptions } from '@bevzip/bev-fusion';
import { evalJson, evalTable, registerEval, type EvalCliOptions } from './eval';
import { registerTrain, trainOptionsFromCli, type TrainCliOptions } from './train';

/** A program with train and eval whose actions only record their options. */
function harness() {
  const seen: { train?: TrainCliOptions; eval?: EvalCliOptions } = {};
  let stderr = '';
  const program = new Command('bevzip')
    .exitOverride()
    .configureOutput({ writeErr: (s) => void (stderr += s), writeOut: () => {} });
  registerTrain(program, async (o) => void (seen.train = o));
  registerEval(program, async (o) => void (seen.eval = o));
  for (const c of program.commands)
    c.exitOverride().configureOutput({ writeErr: (s) => void (stderr += s), writeOut: () => {} });
  const parse = async (...args: string[]) => program.parseAsync(['node', 'bevzip', ...args]);
  return { seen, parse, stderr: () => stderr };
}

describe('bevzip train options', () => {
  it('parses a full command line into trainModel options with the documented defaults', async () => {
    const h = harness();
    await h.parse(
      'train',
      '--model',
      'tiny',
      '--modality',
      'camera',
      '--steps',
      '300',
      '--out',
      'runs/cam',
      '--eval-every',
      '100',
      '--no-resume',
    );
    const o = h.seen.train!;
    expect(o).toMatchObject({
      model: 'tiny',
      modality: 'camera',
      steps: 300,
      out: 'runs/cam',
      seed: 0,
      batchSize: 2,
      lr: 1e-3,
      evalEvery: 100,
      checkpointEvery: 200,
      resume: false,
      progress: true,
    });
    const lib = resolveTrainOptions(trainOptionsFromCli(o));
    expect(lib).toMatchObject({
      model: 'tiny',
      modality: 'camera',
      steps: 300,
      evalEvery: 100,
      resume: false,
      clipNorm: 35,
      weightDecay: 0.01,
    });
  });

  it('rejects an unknown modality and lists the valid ones', async () => {
    const h = harness();
    await expect(
      h.parse('train', '--modality', 'radar', '--steps', '1', '--out', 'x'),
    ).rejects.toBeInstanceOf(CommanderError);
    expect(h.stderr()).toMatch(/--modality.*'radar'.*fusion, camera, lidar/s);
    expect(h.seen.train).toBeUndefined();
  });

  it('rejects an unknown model, a non-integer step count and a missing --out with the expectation', async () => {
    const h = harness();
    await expect(h.parse('train', '--model', 'huge', '--steps', '1', '--out', 'x')).rejects.toThrow();
    expect(h.stderr()).toMatch(/micro, tiny, small/);
    await expect(h.parse('train', '--steps', '2.5', '--out', 'x')).rejects.toThrow();
    expect(h.stderr()).toMatch(/--steps.*integer ≥ 1.*'2\.5'/s);
    await expect(h.parse('train', '--steps', '3')).rejects.toThrow();
    expect(h.stderr()).toMatch(/--out/);
  });
});

describe('bevzip eval options and output', () => {
  it('requires --ckpt and validates --runtime', async () => {
    const h = harness();
    await expect(h.parse('eval')).rejects.toThrow();
    expect(h.stderr()).toMatch(/--ckpt/);
    await expect(h.parse('eval', '--ckpt', 'builtin:tiny-fusion', '--runtime', 'gpu')).rejects.toThrow();
    expect(h.stderr()).toMatch(/auto, onnxruntime, interpreter/);
    await h.parse('eval', '--ckpt', 'builtin:tiny-fusion', '--json');
    expect(h.seen.eval).toMatchObject({ ckpt: 'builtin:tiny-fusion', json: true, runtime: 'auto' });
  });

  it('prints mAP, NDS and mIoU at the top level of the JSON and all eight figures in the table', () => {
    const r = {
      mAP: 0.5,
      NDS: 0.45,
      mATE: 0.3,
      mASE: 0.2,
      mAOE: 0.4,
      mAVE: 0.6,
      mAAE: 0.1,
      mIoU: 0.7,
      frames: 48,
      runtime: 'onnxruntime' as const,
      classes: ['car'],
      classAps: { car: 0.5 },
      gtCounts: { car: 9 },
      checkpoint: 'x',
      dir: '/x',
      model: 'tiny-fusion',
      modality: 'fusion',
      dataSeed: 0,
    };
    const json = evalJson(r);
    expect(json).toMatchObject({
      mAP: 0.5,
      NDS: 0.45,
      mIoU: 0.7,
      mATE: 0.3,
      mASE: 0.2,
      mAOE: 0.4,
      mAVE: 0.6,
      mAAE: 0.1,
    });
    expect(evalJson({ ...r, mIoU: NaN }).mIoU).toBeNull();
    const table = evalTable(r);
    for (const [label, v] of [
      ['mAP', '0.5000'],
      ['NDS', '0.4500'],
      ['mATE', '0.3000'],
      ['mAAE', '0.1000'],
      ['map mIoU', '0.7000'],
    ])
      expect(table).toMatch(new RegExp(`${label}\\s+${v}`));
  });
});
