import { CAMERA_CHANNELS } from '../data/types';
import type { Box3D, CameraData, Frame } from '../data/types';
import { categoryToDetectionName, isNuScenesCategory, NUSCENES_ATTRIBUTES } from './categories';
import { NuScenesFormatError } from './errors';

/** Names used in file names and tokens must be safe path components. */
const SAFE_NAME = /^[A-Za-z0-9._-]+$/;
const INPUT = '<frames given to writeNuScenes>';

function fail(record: string, field: string, expected: string, found?: unknown): never {
  throw new NuScenesFormatError({
    file: INPUT,
    record,
    field,
    expected,
    found: found === undefined ? undefined : JSON.stringify(found),
  });
}

function finite(values: readonly number[]): boolean {
  return values.every((v) => Number.isFinite(v));
}

/** Checks the fields of a frame the writer relies on, naming the frame and field on failure. */
export function checkFrame(frame: Frame, index: number): void {
  const rec = `frame #${index} (sample ${frame.sampleToken})`;
  if (!SAFE_NAME.test(frame.sampleToken))
    fail(rec, 'sampleToken', 'a non-empty [A-Za-z0-9._-] token', frame.sampleToken);
  if (!SAFE_NAME.test(frame.sceneName))
    fail(rec, 'sceneName', 'a non-empty [A-Za-z0-9._-] name', frame.sceneName);
  if (!Number.isSafeInteger(frame.timestamp)) fail(rec, 'timestamp', 'an integer (µs)', frame.timestamp);
  if (!finite([...frame.egoPose.translation, ...frame.egoPose.rotation]))
    fail(rec, 'egoPose', 'finite numbers');
  if (!Number.isSafeInteger(frame.lidar.timestamp))
    fail(rec, 'lidar.timestamp', 'an integer (µs)', frame.lidar.timestamp);
  if (frame.lidar.points.length % 5 !== 0) {
    fail(rec, 'lidar.points', 'a multiple of 5 floats (x, y, z, intensity, ring)', frame.lidar.points.length);
  }
  const seen = new Set<string>();
  frame.cameras.forEach((cam, k) => {
    checkCamera(cam, `${rec} camera #${k}`);
    if (seen.has(cam.channel))
      fail(`${rec} camera #${k}`, 'channel', 'each camera channel once per frame', cam.channel);
    seen.add(cam.channel);
  });
  const instances = new Set<string>();
  frame.boxes.forEach((box, k) => {
    const boxRec = `${rec} box #${k} (instance ${box.instanceId})`;
    checkBox(box, boxRec);
    if (instances.has(box.instanceId))
      fail(boxRec, 'instanceId', 'each instance once per frame', box.instanceId);
    instances.add(box.instanceId);
  });
}

function checkCamera(cam: CameraData, rec: string): void {
  if (!(CAMERA_CHANNELS as readonly string[]).includes(cam.channel)) {
    fail(rec, 'channel', `one of ${CAMERA_CHANNELS.join(', ')}`, cam.channel);
  }
  if (!Number.isSafeInteger(cam.timestamp)) fail(rec, 'timestamp', 'an integer (µs)', cam.timestamp);
  if (cam.intrinsic.length !== 9 || !finite(cam.intrinsic))
    fail(rec, 'intrinsic', '9 finite numbers (3×3 row-major)');
  if (!(cam.width > 0 && cam.height > 0 && Number.isInteger(cam.width) && Number.isInteger(cam.height))) {
    fail(rec, 'width/height', 'positive integers', [cam.width, cam.height]);
  }
  if (cam.image.length !== cam.width * cam.height * 3) {
    fail(
      rec,
      'image',
      `${cam.width}×${cam.height}×3 = ${cam.width * cam.height * 3} bytes`,
      cam.image.length,
    );
  }
}

function checkBox(box: Box3D, rec: string): void {
  if (!isNuScenesCategory(box.categoryName))
    fail(rec, 'categoryName', 'a nuScenes category such as vehicle.car', box.categoryName);
  const mapped = categoryToDetectionName(box.categoryName);
  if (mapped !== box.detectionName) {
    fail(
      rec,
      'detectionName',
      `"${String(mapped)}" (the detection class of ${box.categoryName})`,
      box.detectionName,
    );
  }
  if (box.attributeName !== '' && !(NUSCENES_ATTRIBUTES as readonly string[]).includes(box.attributeName)) {
    fail(rec, 'attributeName', `'' or one of ${NUSCENES_ATTRIBUTES.join(', ')}`, box.attributeName);
  }
  if (![1, 2, 3, 4].includes(box.visibility)) fail(rec, 'visibility', '1, 2, 3 or 4', box.visibility);
  if (!SAFE_NAME.test(box.instanceId))
    fail(rec, 'instanceId', 'a non-empty [A-Za-z0-9._-] id', box.instanceId);
  if (!finite([...box.center, ...box.size, box.yaw]) || box.size.some((s) => s <= 0)) {
    fail(rec, 'center/size/yaw', 'finite numbers with positive sizes');
  }
  if (!Number.isSafeInteger(box.numLidarPts) || box.numLidarPts < 0) {
    fail(rec, 'numLidarPts', 'a non-negative integer', box.numLidarPts);
  }
}
