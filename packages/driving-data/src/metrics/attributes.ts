import type { DetectionClass } from '../data/types';

/** The eight nuScenes attribute names a detection may carry. */
export const ATTRIBUTE_NAMES = [
  'pedestrian.moving',
  'pedestrian.sitting_lying_down',
  'pedestrian.standing',
  'cycle.with_rider',
  'cycle.without_rider',
  'vehicle.moving',
  'vehicle.parked',
  'vehicle.stopped',
] as const;
export type AttributeName = (typeof ATTRIBUTE_NAMES)[number];

/** Speed (m/s) above which an object counts as moving. */
export const MOVING_SPEED_THRESHOLD = 0.2;

const VEHICLES: readonly DetectionClass[] = ['car', 'truck', 'bus', 'trailer', 'construction_vehicle'];
const CYCLES: readonly DetectionClass[] = ['bicycle', 'motorcycle'];

/** Attributes that are valid for a class; empty for cones and barriers. */
export function relevantAttributes(name: DetectionClass): AttributeName[] {
  if (name === 'pedestrian')
    return ['pedestrian.moving', 'pedestrian.sitting_lying_down', 'pedestrian.standing'];
  if (CYCLES.includes(name)) return ['cycle.with_rider', 'cycle.without_rider'];
  if (VEHICLES.includes(name)) return ['vehicle.moving', 'vehicle.parked', 'vehicle.stopped'];
  return [];
}

const DEFAULT_ATTRIBUTE: Record<DetectionClass, AttributeName | ''> = {
  car: 'vehicle.parked',
  truck: 'vehicle.parked',
  bus: 'vehicle.moving',
  trailer: 'vehicle.parked',
  construction_vehicle: 'vehicle.parked',
  pedestrian: 'pedestrian.moving',
  motorcycle: 'cycle.without_rider',
  bicycle: 'cycle.without_rider',
  traffic_cone: '',
  barrier: '',
};

/**
 * Attribute for a predicted box from its class and velocity, the rule BEVFusion's result
 * formatter uses: above 0.2 m/s vehicles are `vehicle.moving` and cycles `cycle.with_rider`;
 * otherwise pedestrians are `pedestrian.standing` and buses `vehicle.stopped`; anything else
 * gets its class default (e.g. car `vehicle.parked`, bicycle `cycle.without_rider`, cone and
 * barrier '').
 */
export function defaultAttribute(
  name: DetectionClass,
  velocity: readonly [number, number],
): AttributeName | '' {
  const speed = Math.sqrt(velocity[0] * velocity[0] + velocity[1] * velocity[1]);
  if (speed > MOVING_SPEED_THRESHOLD) {
    if (VEHICLES.includes(name)) return 'vehicle.moving';
    if (CYCLES.includes(name)) return 'cycle.with_rider';
  } else {
    if (name === 'pedestrian') return 'pedestrian.standing';
    if (name === 'bus') return 'vehicle.stopped';
  }
  return DEFAULT_ATTRIBUTE[name];
}
