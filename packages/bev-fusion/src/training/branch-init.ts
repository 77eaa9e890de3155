import * as tf from '@tensorflow/tfjs';
import { BevzipError, ERROR_CODES, ParamStore, type Graph } from '@bevzip/ir';
import { loadModelCheckpoint, type ModelCheckpoint } from './model-checkpoint';

/** Single-sensor checkpoints a fusion model starts from. */
export interface BranchCheckpoints {
  /** A camera-only model (path or `builtin:<name>`): gives the camera encoder. */
  camera: string;
  /** A LiDAR-only model: gives the LiDAR encoder, the fuser's LiDAR half, decoder and heads. */
  lidar: string;
}

const CAMERA_SCOPE = 'encoders.camera.';
const FUSER_WEIGHT = 'fuser.conv.weight';

function load(ref: string, modality: 'camera' | 'lidar', configName: string): ModelCheckpoint {
  const ck = loadModelCheckpoint(ref);
  if (ck.info.modality !== modality || ck.info.configName !== configName) {
    ck.params.dispose();
    throw new BevzipError(
      ERROR_CODES.CHECKPOINT,
      `fusion init: '${ref}' is a ${ck.info.configName} ${ck.info.modality} model; expected a ${configName} ${modality} model`,
    );
  }
  return ck;
}

/**
 * Weights for a fusion graph from two single-sensor models: camera encoder from `camera`; LiDAR
 * encoder, fuser batch norm, decoder and heads from `lidar`; the fuser conv reads [camera | LiDAR]
 * channels, and its camera half starts at zero, so the fusion model's first forward equals the
 * LiDAR model's and training can only add what the camera contributes.
 * @throws BevzipError (E_CHECKPOINT) for a checkpoint of another modality or config, or a param
 *   neither checkpoint holds in the fusion shape.
 */
export function fusionParamsFromBranches(
  graph: Graph,
  configName: string,
  refs: BranchCheckpoints,
): ParamStore {
  const camera = load(refs.camera, 'camera', configName);
  let lidar: ModelCheckpoint | undefined;
  try {
    const lidarCk = load(refs.lidar, 'lidar', configName);
    lidar = lidarCk;
    const values = new Map<string, tf.Tensor>();
    try {
      for (const p of graph.params) {
        const source = p.name.startsWith(CAMERA_SCOPE) ? camera : lidarCk;
        const shape = p.shape.join(',');
        if (!source.params.has(p.name))
          throw new BevzipError(
            ERROR_CODES.CHECKPOINT,
            `fusion init: param '${p.name}' is missing from ${source.dir}`,
          );
        const v = source.params.get(p.name);
        if (v.shape.join(',') === shape) {
          values.set(p.name, v);
        } else if (p.name === FUSER_WEIGHT && p.shape.length === 4 && (v.shape[2] ?? 0) < (p.shape[2] ?? 0)) {
          // Concat order is [camera, lidar], so the LiDAR weights fill the last input channels.
          const [k1, k2, cin, cout] = p.shape as [number, number, number, number];
          const have = v.shape[2] ?? 0;
          values.set(
            p.name,
            tf.tidy(() => tf.concat([tf.zeros([k1, k2, cin - have, cout]), v], 2)),
          );
        } else {
          throw new BevzipError(
            ERROR_CODES.CHECKPOINT,
            `fusion init: param '${p.name}' is [${v.shape}] in ${source.dir}; the fusion graph needs [${p.shape}]`,
          );
        }
      }
      return ParamStore.fromTensors(graph, values);
    } finally {
      const fuser = values.get(FUSER_WEIGHT);
      if (fuser && fuser !== lidarCk.params.get(FUSER_WEIGHT)) fuser.dispose();
    }
  } finally {
    camera.params.dispose();
    lidar?.params.dispose();
  }
}
