import * as fs from 'node:fs';
import * as path from 'node:path';
import * as bevFusion from '@bevzip/bev-fusion';
import { BEV_FUSION_CONFIGS, buildBevFusion, type BevFusionConfig, type BevFusionMeta, type ModelModality } from '@bevzip/bev-fusion';
import { BevzipError, ERROR_CODES, loadGraph, ParamStore, type Graph } from '@bevzip/ir';
import type { ModelRef } from './schema';

/** A model ready to train or evaluate: graph, weights (caller disposes) and what it is. */
export interface LoadedModel {
  graph: Graph;
  params: ParamStore;
  config: BevFusionConfig;
  modality: ModelModality;
  /** How the pipeline named it, for the report. */
  source: string;
  /** The folder it was read from (undefined for a built model). */
  dir?: string;
  /** Set when the folder has no manifest.json, so its files were read unchecked. */
  unverified?: string;
}

const BUILTIN = 'builtin:';

/**
 * The directory behind a checkpoint reference. `builtin:<name>` is resolved by the installed
 * `@bevzip/bev-fusion` (its shipped teachers); other references are paths relative to `baseDir`.
 */
export function checkpointDir(ref: string, baseDir: string): string {
  if (ref.startsWith(BUILTIN)) {
    const resolve = (bevFusion as { resolveCheckpoint?: (r: string) => string }).resolveCheckpoint;
    if (typeof resolve !== 'function') {
      throw new BevzipError(ERROR_CODES.CHECKPOINT, `checkpoint '${ref}': this @bevzip/bev-fusion ships no builtin checkpoints; give a checkpoint path or a builder + config`);
    }
    return resolve(ref);
  }
  const dir = path.resolve(baseDir, ref);
  if (!fs.existsSync(path.join(dir, 'graph.json'))) {
    throw new BevzipError(ERROR_CODES.CHECKPOINT, `checkpoint '${ref}': expected a model directory with graph.json at ${dir}`);
  }
  return dir;
}

/** Config and modality of a BEVFusion graph, from its meta. */
export function bevFusionMeta(graph: Graph, where: string): { config: BevFusionConfig; modality: ModelModality } {
  const meta = graph.meta as Partial<BevFusionMeta> | undefined;
  if (meta?.builder !== 'buildBevFusion' || !meta.config || !meta.modality) {
    throw new BevzipError(ERROR_CODES.CHECKPOINT, `${where}: graph '${graph.name}' is not a BEVFusion graph (its meta names no builder, config and modality)`);
  }
  return { config: meta.config, modality: meta.modality };
}

/**
 * Builds or loads the model a pipeline names: a builder + config is initialised from `seed`; a
 * checkpoint (path or `builtin:<name>`) is read from its directory.
 * @throws BevzipError (E_CHECKPOINT) for a missing or foreign checkpoint.
 */
export function loadModelRef(ref: ModelRef, options: { seed: number; baseDir: string; field: string }): LoadedModel {
  if (typeof ref === 'object' && 'builder' in ref) {
    const config = BEV_FUSION_CONFIGS[ref.config];
    const graph = buildBevFusion(config, ref.modality);
    return { graph, params: ParamStore.init(graph, options.seed), config, modality: ref.modality, source: `${ref.builder}:${ref.config}/${ref.modality}` };
  }
  const name = typeof ref === 'string' ? ref : ref.checkpoint;
  let dir: string;
  try {
    dir = checkpointDir(name, options.baseDir);
  } catch (e) {
    if (e instanceof BevzipError) throw new BevzipError(e.code, `${options.field}: ${e.message}`, { cause: e });
    throw e;
  }
  let loaded: ReturnType<typeof loadGraph>;
  try {
    loaded = loadGraph(dir);
  } catch (e) {
    if (e instanceof BevzipError) throw new BevzipError(e.code, `${options.field}: ${e.message}`, { cause: e });
    throw e;
  }
  const { graph, params, verified } = loaded;
  try {
    const unverified = verified ? undefined : `${options.field}: ${dir} has no manifest.json (written before bevzip kept manifests), so its files could not be checked for damage`;
    return { graph, params, ...bevFusionMeta(graph, `${options.field}: ${dir}`), source: name, dir, unverified };
  } catch (e) {
    params.dispose();
    throw e;
  }
}
