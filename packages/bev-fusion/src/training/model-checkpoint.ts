import * as fs from 'node:fs';
import * as path from 'node:path';
import { BevzipError, ERROR_CODES, loadGraph, saveGraph, type Graph, type ParamStore } from '@bevzip/ir';
import type { BevFusionMeta } from '../model/build';
import type { BevFusionConfig, ModelModality } from '../model/config';

/** Format tag of `model.json`. */
export const MODEL_INFO_FORMAT = 'bevzip-model';

/** Headline validation metrics of a model (nuScenes names: mATE … mAAE are the five TP errors). */
export interface HeadlineMetrics {
  mAP: number;
  NDS: number;
  mATE: number;
  mASE: number;
  mAOE: number;
  mAVE: number;
  mAAE: number;
  /** Map segmentation mIoU; NaN for a model without a map head. */
  mIoU: number;
}

/** What `model.json` beside `graph.json` + `weights.bin` records about a trained model. */
export interface ModelInfo {
  format: typeof MODEL_INFO_FORMAT;
  version: 1;
  /** Name of the model config (`tiny`, `micro`, …) and the config itself. */
  configName: string;
  config: BevFusionConfig;
  modality: ModelModality;
  /** The training run: seed, steps, batch size and the synthetic data it saw. */
  training?: Record<string, unknown>;
  /** Validation metrics and the set they were measured on. */
  metrics?: HeadlineMetrics & { frames: number; dataSeed: number; runtime: string };
}

/** A model checkpoint directory read back: graph, weights (caller disposes) and its info. */
export interface ModelCheckpoint {
  dir: string;
  graph: Graph;
  params: ParamStore;
  info: ModelInfo;
  /** False when the directory has no manifest.json, so its files could not be checked. */
  verified: boolean;
}

/** Names of the checkpoints shipped in this package, addressable as `builtin:<name>`. */
export const BUILTIN_CHECKPOINTS = ['tiny-fusion', 'tiny-camera', 'tiny-lidar'] as const;
export type BuiltinCheckpoint = (typeof BUILTIN_CHECKPOINTS)[number];

const BUILTIN_PREFIX = 'builtin:';

/** The package's `teachers/` folder (this file sits two levels below the package root in src and dist). */
export function teachersDir(): string {
  return path.resolve(__dirname, '..', '..', 'teachers');
}

/**
 * Resolves a checkpoint reference to a model directory: `builtin:<name>` is one of the shipped
 * teachers; anything else is a path to a directory holding `graph.json`.
 * @throws BevzipError (E_CHECKPOINT) for an unknown builtin (listing the valid ones), a missing
 *   directory or one without `graph.json` (naming the path).
 */
export function resolveCheckpoint(ref: string): string {
  let dir: string;
  if (ref.startsWith(BUILTIN_PREFIX)) {
    const name = ref.slice(BUILTIN_PREFIX.length);
    if (!(BUILTIN_CHECKPOINTS as readonly string[]).includes(name)) {
      const valid = BUILTIN_CHECKPOINTS.map((n) => BUILTIN_PREFIX + n).join(', ');
      throw new BevzipError(
        ERROR_CODES.CHECKPOINT,
        `unknown builtin checkpoint '${ref}'; expected one of ${valid}`,
      );
    }
    dir = path.join(teachersDir(), name);
  } else {
    dir = path.resolve(ref);
  }
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new BevzipError(ERROR_CODES.CHECKPOINT, `checkpoint '${ref}': no such directory ${dir}`);
  }
  if (!fs.existsSync(path.join(dir, 'graph.json'))) {
    throw new BevzipError(
      ERROR_CODES.CHECKPOINT,
      `checkpoint '${ref}': ${dir} has no graph.json (expected a model directory written by trainModel or saveGraph)`,
    );
  }
  return dir;
}

/** Writes graph.json + weights.bin + model.json into `dir`. */
export function saveModelCheckpoint(dir: string, graph: Graph, params: ParamStore, info: ModelInfo): void {
  saveGraph(dir, graph, params, { 'model.json': JSON.stringify(info, null, 2) + '\n' });
}

/** Info taken from a BEVFusion graph's meta, for directories written without a model.json. */
function infoFromGraph(graph: Graph, dir: string): ModelInfo {
  const meta = graph.meta as Partial<BevFusionMeta> | undefined;
  if (meta?.builder !== 'buildBevFusion' || !meta.config || !meta.modality) {
    throw new BevzipError(
      ERROR_CODES.CHECKPOINT,
      `checkpoint ${dir}: no model.json, and graph '${graph.name}' is not a BEVFusion graph (meta.builder)`,
    );
  }
  return {
    format: MODEL_INFO_FORMAT,
    version: 1,
    configName: meta.config.name,
    config: meta.config,
    modality: meta.modality,
  };
}

/**
 * Loads a model checkpoint by reference (see {@link resolveCheckpoint}). Without `model.json` the
 * config and modality come from the graph's BEVFusion meta.
 */
export function loadModelCheckpoint(ref: string): ModelCheckpoint {
  const dir = resolveCheckpoint(ref);
  const { graph, params, verified } = loadGraph(dir);
  const infoPath = path.join(dir, 'model.json');
  try {
    if (!fs.existsSync(infoPath)) return { dir, graph, params, info: infoFromGraph(graph, dir), verified };
    let info: ModelInfo;
    try {
      info = JSON.parse(fs.readFileSync(infoPath, 'utf8')) as ModelInfo;
    } catch (e) {
      throw new BevzipError(ERROR_CODES.CHECKPOINT, `${infoPath}: not valid JSON (${(e as Error).message})`);
    }
    if (
      info.format !== MODEL_INFO_FORMAT ||
      !info.config ||
      !['fusion', 'camera', 'lidar'].includes(info.modality)
    ) {
      throw new BevzipError(
        ERROR_CODES.CHECKPOINT,
        `${infoPath}: expected format '${MODEL_INFO_FORMAT}' with a config and a modality`,
      );
    }
    return { dir, graph, params, info, verified };
  } catch (e) {
    params.dispose();
    throw e;
  }
}
