#!/usr/bin/env node
// Reproduces the shipped teachers: `npm run teachers -w @bevzip/bev-fusion` (builds, then trains
// tiny-camera, tiny-lidar and tiny-fusion — which starts from the other two — one after another on
// a stream of fresh synthetic scenes, ≈ 1 h each on a free core; recipes in src/training/teacher-recipes.ts).
// Pass teacher names to train only those. Runtime checkpoints go to $BEVZIP_TEACHER_WORK (default:
// the OS temp dir), so an interrupted run resumes; delete them to retrain from scratch. With
// $BEVZIP_TEACHER_OUT the models are written there instead of over the shipped ones, and the fusion
// recipe starts from the camera and LiDAR models in that folder. `tiny-fusion-scratch` (named
// explicitly) trains the from-scratch fusion control into $BEVZIP_TEACHER_OUT or the work folder.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { initBackend, writeJsonLines } = require('@bevzip/ir');
const { COMPARISON_RECIPES, TEACHER_RECIPES, trainModel } = require('@bevzip/bev-fusion');

async function main() {
  await initBackend({});
  const wanted = process.argv.slice(2);
  const work = process.env.BEVZIP_TEACHER_WORK || path.join(os.tmpdir(), 'bevzip-teachers');
  fs.mkdirSync(work, { recursive: true });
  const outDir = process.env.BEVZIP_TEACHER_OUT ? path.resolve(process.env.BEVZIP_TEACHER_OUT) : __dirname;
  const fromOut = (ref) => (outDir !== __dirname && ref.startsWith('builtin:') ? path.join(outDir, ref.slice(8)) : ref);
  const known = [...TEACHER_RECIPES, ...COMPARISON_RECIPES].map((r) => r.name);
  const unknown = wanted.filter((name) => !known.includes(name));
  if (unknown.length > 0) throw new Error(`unknown recipe(s) ${unknown.join(', ')}; expected some of ${known.join(', ')}`);
  const comparisons = COMPARISON_RECIPES.filter((r) => wanted.includes(r.name));
  for (const recipe of [...TEACHER_RECIPES, ...comparisons]) {
    if (wanted.length > 0 && !wanted.includes(recipe.name)) continue;
    const shipped = TEACHER_RECIPES.includes(recipe);
    const { name, fromBranches, ...options } = recipe;
    const started = Date.now();
    const say = (line) =>
      process.stdout.write(`[${name} ${((Date.now() - started) / 1000).toFixed(0)}s] ${line}\n`);
    const result = await trainModel({
      ...options,
      fromBranches: fromBranches && { camera: fromOut(fromBranches.camera), lidar: fromOut(fromBranches.lidar) },
      out: path.join(shipped || outDir !== __dirname ? outDir : work, name),
      checkpointDir: path.join(work, name, 'checkpoints'),
      checkpointEvery: 100,
      log: say,
      observe: (events) => {
        writeJsonLines(events, path.join(work, `${name}.jsonl`));
        events.subscribe((e) => {
          if (e.type === 'step' && (e.step + 1) % 50 === 0)
            say(`step ${e.step + 1}/${options.steps} loss ${e.total.toFixed(3)} lr ${e.lr.toExponential(2)}`);
          if (e.type === 'metric') say(`${e.name} ${e.value.toFixed(4)} at step ${e.step}`);
          if (e.type === 'warning') say(`warning ${e.code}: ${e.message}`);
        });
      },
    });
    const m = result.metrics;
    say(
      `done: mAP ${m.mAP.toFixed(4)} NDS ${m.NDS.toFixed(4)} mIoU ${m.mIoU.toFixed(4)} (${m.frames} val frames, ${m.runtime})`,
    );
  }
}

main().catch((e) => {
  process.stderr.write(`${e.stack || e}\n`);
  process.exitCode = 1;
});
