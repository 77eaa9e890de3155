import { existsSync, readFileSync } from 'node:fs';
import { NuScenesFormatError } from './errors';

/** Floats per point in a nuScenes LiDAR `.pcd.bin`: x, y, z, intensity, ring. */
export const LIDAR_POINT_STRIDE = 5;
const BYTES_PER_POINT = LIDAR_POINT_STRIDE * 4;

/** Little-endian float32 ×5 bytes of a point cloud. */
export function encodePointCloud(points: Float32Array): Buffer {
  if (points.length % LIDAR_POINT_STRIDE !== 0) {
    throw new RangeError(
      `encodePointCloud: expected a multiple of ${LIDAR_POINT_STRIDE} floats, got ${points.length}`,
    );
  }
  const buf = Buffer.alloc(points.length * 4);
  for (let i = 0; i < points.length; i++) buf.writeFloatLE(points[i], i * 4);
  return buf;
}

/**
 * Parses the bytes of a `.pcd.bin` (all five columns are kept, unlike the devkit which drops the
 * ring). A length that is not a multiple of 20 bytes means a truncated file and is an error.
 */
export function decodePointCloud(bytes: Uint8Array, file: string): Float32Array {
  if (bytes.length % BYTES_PER_POINT !== 0) {
    throw new NuScenesFormatError({
      file,
      expected: `a length that is a multiple of ${BYTES_PER_POINT} bytes (float32 ×${LIDAR_POINT_STRIDE} per point)`,
      found: `${bytes.length} bytes (truncated?)`,
    });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.length / 4);
  let bad = 0;
  let first = -1;
  for (let i = 0; i < out.length; i++) {
    out[i] = view.getFloat32(i * 4, true);
    if (!Number.isFinite(out[i])) {
      bad++;
      if (first < 0) first = i;
    }
  }
  if (bad > 0) {
    // NaN or infinite coordinates would poison every pillar they land in; nothing downstream can recover them.
    const point = Math.floor(first / LIDAR_POINT_STRIDE);
    throw new NuScenesFormatError({
      file,
      expected: 'finite float32 values (x, y, z, intensity, ring) for every point',
      found: `${bad} NaN or infinite value(s), the first in point ${point} (column ${first % LIDAR_POINT_STRIDE}: ${out[first]})`,
    });
  }
  return out;
}

/** Reads a `.pcd.bin` file; see {@link decodePointCloud}. */
export function readPointCloud(file: string): Float32Array {
  if (!existsSync(file)) {
    throw new NuScenesFormatError({
      file,
      expected: 'the LiDAR point-cloud file to exist',
      found: 'no such file',
    });
  }
  return decodePointCloud(readFileSync(file), file);
}
