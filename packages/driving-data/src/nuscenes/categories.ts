import type { DetectionClass } from '../data/types';

/** The 23 object categories that nuScenes v1.0 annotates with 3D boxes. */
export const NUSCENES_CATEGORIES = [
  'animal',
  'human.pedestrian.adult',
  'human.pedestrian.child',
  'human.pedestrian.construction_worker',
  'human.pedestrian.personal_mobility',
  'human.pedestrian.police_officer',
  'human.pedestrian.stroller',
  'human.pedestrian.wheelchair',
  'movable_object.barrier',
  'movable_object.debris',
  'movable_object.pushable_pullable',
  'movable_object.trafficcone',
  'static_object.bicycle_rack',
  'vehicle.bicycle',
  'vehicle.bus.bendy',
  'vehicle.bus.rigid',
  'vehicle.car',
  'vehicle.construction',
  'vehicle.emergency.ambulance',
  'vehicle.emergency.police',
  'vehicle.motorcycle',
  'vehicle.trailer',
  'vehicle.truck',
] as const;
export type NuScenesCategory = (typeof NUSCENES_CATEGORIES)[number];

/** The 8 nuScenes attributes. */
export const NUSCENES_ATTRIBUTES = [
  'vehicle.moving',
  'vehicle.stopped',
  'vehicle.parked',
  'cycle.with_rider',
  'cycle.without_rider',
  'pedestrian.sitting_lying_down',
  'pedestrian.standing',
  'pedestrian.moving',
] as const;

/** Visibility levels 1..4 as nuScenes names them (fraction visible over all six cameras). */
export const VISIBILITY_LEVELS = ['v0-40', 'v40-60', 'v60-80', 'v80-100'] as const;

const DETECTION_MAPPING: Readonly<Record<string, DetectionClass>> = {
  'movable_object.barrier': 'barrier',
  'vehicle.bicycle': 'bicycle',
  'vehicle.bus.bendy': 'bus',
  'vehicle.bus.rigid': 'bus',
  'vehicle.car': 'car',
  'vehicle.construction': 'construction_vehicle',
  'vehicle.motorcycle': 'motorcycle',
  'human.pedestrian.adult': 'pedestrian',
  'human.pedestrian.child': 'pedestrian',
  'human.pedestrian.construction_worker': 'pedestrian',
  'human.pedestrian.police_officer': 'pedestrian',
  'movable_object.trafficcone': 'traffic_cone',
  'vehicle.trailer': 'trailer',
  'vehicle.truck': 'truck',
};

/**
 * The detection class of a nuScenes category, as the devkit's default mapping defines it, or
 * `undefined` for categories outside the detection benchmark (e.g. `animal`, strollers and
 * wheelchairs, which the benchmark deliberately leaves out of `pedestrian`).
 *
 * @example categoryToDetectionName('vehicle.bus.bendy') // 'bus'
 */
export function categoryToDetectionName(categoryName: string): DetectionClass | undefined {
  return Object.prototype.hasOwnProperty.call(DETECTION_MAPPING, categoryName)
    ? DETECTION_MAPPING[categoryName]
    : undefined;
}

/** Whether `name` is one of the 23 nuScenes object categories. */
export function isNuScenesCategory(name: string): name is NuScenesCategory {
  return (NUSCENES_CATEGORIES as readonly string[]).includes(name);
}
