import type { PipelineFile } from './schema';

/** Steps past which a run is taken for a typo: even at 0.1 s a step, 10⁶ steps are more than a day. */
const MANY_STEPS = 1e6;
/** Synthetic scenes past which generation alone takes hours (ray casting ≈ 0.1 s a frame). */
const MANY_SCENES = 1e4;

const duration = (seconds: number) =>
  seconds >= 365 * 86400 ? `${(seconds / (365 * 86400)).toPrecision(2)} years` : seconds >= 86400 ? `${(seconds / 86400).toPrecision(2)} days` : `${(seconds / 3600).toPrecision(2)} hours`;

/**
 * Valid but implausible settings, each as a warning with the figure and what it implies, so a user
 * can stop before the work starts. Checked before any data is generated.
 */
export function implausibleSettings(pipeline: PipelineFile): string[] {
  const warnings: string[] = [];
  pipeline.stages.forEach((s, i) => {
    if (s.steps > MANY_STEPS) warnings.push(`stages[${i}].steps is ${s.steps}: at 0.1 s a step that is ${duration(s.steps * 0.1)} of training`);
  });
  const synthetic = 'synthetic' in pipeline.data ? pipeline.data.synthetic : undefined;
  if (synthetic && synthetic.scenes > MANY_SCENES) {
    const frames = synthetic.scenes * synthetic.framesPerScene;
    warnings.push(`data.synthetic.scenes is ${synthetic.scenes}: generating its ${frames} frames takes about ${duration(frames * 0.1)} and keeps them all in memory`);
  }
  return warnings;
}

/** The batch-size check, once the training frames are known. */
export function batchWarnings(batchSize: number, trainFrames: number): string[] {
  return batchSize > trainFrames
    ? [`data.batchSize is ${batchSize} but there are only ${trainFrames} training frames: every batch repeats frames`]
    : [];
}
