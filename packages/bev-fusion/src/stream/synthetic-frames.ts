import { BevzipError, ERROR_CODES } from '@bevzip/ir';
import type { Frame } from '@bevzip/driving-data';
import type { TaskConfig } from '../task/config';
import { generateScene, MAP_CLASSES, type MapClass, type SceneConditions } from '@bevzip/synthetic-scenes';
import { assembleHostBatch, type HostBatch } from '../task/host-batch';

/** What a synthetic batch stream draws: plain data, so it can be handed to a worker thread. */
export interface SyntheticStreamSpec {
  /** Seed of the synthetic world generator. */
  seed: number;
  batchSize: number;
  /** Frames taken from each scene, 0.5 s apart (default 2). */
  framesPerScene?: number;
  /** Index of the first scene (default 0), so train and validation streams need not overlap. */
  firstScene?: number;
  /** Overrides of the sampled scene conditions. */
  conditions?: Partial<SceneConditions>;
  /** The task settings that shape feeds and targets (modality, grids, classes, pillar caps). */
  task: TaskConfig;
}

/** Where sample `n` of a stream comes from: scene index and frame within the scene. */
export function sampleAddress(spec: SyntheticStreamSpec, n: number): { scene: number; frame: number } {
  const per = spec.framesPerScene ?? 2;
  return { scene: (spec.firstScene ?? 0) + Math.floor(n / per), frame: n % per };
}

/** Checks the numbers of a stream spec. @throws BevzipError (E_CONFIG) naming the field. */
export function validateStreamSpec(spec: SyntheticStreamSpec): void {
  const positive = (field: string, v: number | undefined, min: number) => {
    if (v !== undefined && !(Number.isInteger(v) && v >= min)) {
      throw new BevzipError(
        ERROR_CODES.CONFIG,
        `batch stream: ${field} must be an integer ≥ ${min}, got ${v}`,
      );
    }
  };
  positive('batchSize', spec.batchSize, 1);
  positive('framesPerScene', spec.framesPerScene, 1);
  positive('firstScene', spec.firstScene, 0);
  if (!Number.isFinite(spec.seed)) {
    throw new BevzipError(ERROR_CODES.CONFIG, `batch stream: seed must be a finite number, got ${spec.seed}`);
  }
}

/**
 * Produces the host batches of an endless synthetic stream. Step s holds samples s·B … s·B + B − 1,
 * sample n being frame n mod F of scene ⌊n / F⌋ (F frames per scene), so a batch depends on its step
 * alone. Recent scenes are cached: consecutive steps share scenes and each is rendered once.
 */
export class SyntheticBatchMaker {
  private readonly scenes = new Map<number, Frame[]>();
  private readonly mapClasses: MapClass[];

  constructor(
    private readonly spec: SyntheticStreamSpec,
    private readonly cacheScenes = 4,
  ) {
    validateStreamSpec(spec);
    // Classes the renderer cannot draw are left for the target builder to report by name.
    this.mapClasses = spec.task.mapClasses.filter((c): c is MapClass =>
      (MAP_CLASSES as readonly string[]).includes(c),
    );
  }

  /** The frames of step `step`, in batch order. */
  framesAt(step: number): Frame[] {
    if (!(Number.isInteger(step) && step >= 0)) {
      throw new BevzipError(ERROR_CODES.CONFIG, `batch stream: step must be a non-negative integer, got ${step}`);
    }
    const b = this.spec.batchSize;
    return Array.from({ length: b }, (_, i) => {
      const { scene, frame } = sampleAddress(this.spec, step * b + i);
      return this.scene(scene)[frame];
    });
  }

  /** The host batch of step `step`. */
  batchAt(step: number): HostBatch {
    return assembleHostBatch(step, this.framesAt(step), this.spec.task);
  }

  private scene(index: number): Frame[] {
    const hit = this.scenes.get(index);
    if (hit) return hit;
    const frames = generateScene({
      seed: this.spec.seed,
      sceneIndex: index,
      frames: this.spec.framesPerScene ?? 2,
      conditions: this.spec.conditions,
      cameras: this.spec.task.modality !== 'lidar',
      mapClasses: this.mapClasses.length > 0 ? this.mapClasses : undefined,
    });
    if (this.scenes.size >= this.cacheScenes) this.scenes.delete(this.scenes.keys().next().value as number);
    this.scenes.set(index, frames);
    return frames;
  }
}
