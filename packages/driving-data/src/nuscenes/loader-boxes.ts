import type { Box3D } from '../data/types';
import { categoryToDetectionName, isNuScenesCategory, VISIBILITY_LEVELS } from './categories';
import type { NuScenesDatabase } from './database';
import { describeRecord, NuScenesFormatError } from './errors';
import { boxFromAnnotationGeometry } from './transforms';

function visibilityLevel(db: NuScenesDatabase, token: string): Box3D['visibility'] | undefined {
  if (token === '') return undefined;
  const rec = db.get('visibility', token);
  const byLevel = (VISIBILITY_LEVELS as readonly string[]).indexOf(rec.level);
  if (byLevel >= 0) return (byLevel + 1) as Box3D['visibility'];
  return undefined;
}

/**
 * A global-frame box (velocity not yet filled in) from a `sample_annotation`, or `undefined` for
 * a category outside the detection benchmark when `nonDetection` is `'drop'`. An unknown
 * category, more than one attribute or a missing visibility level is an error.
 */
export function annotationToBox(
  db: NuScenesDatabase,
  token: string,
  nonDetection: 'drop' | 'error',
): Omit<Box3D, 'velocity'> | undefined {
  const ann = db.get('sample_annotation', token);
  const annIndex = () => describeRecord(db.tables.sample_annotation.indexOf(ann), ann.token);
  const instance = db.get('instance', ann.instance_token);
  const category = db.get('category', instance.category_token);
  if (!isNuScenesCategory(category.name)) {
    throw new NuScenesFormatError({
      file: db.file('category'),
      record: describeRecord(db.tables.category.indexOf(category), category.token),
      field: 'name',
      expected: 'a known nuScenes category (e.g. vehicle.car)',
      found: `unknown category "${category.name}" used by annotation ${ann.token}`,
    });
  }
  const detectionName = categoryToDetectionName(category.name);
  if (detectionName === undefined) {
    if (nonDetection === 'drop') return undefined;
    throw new NuScenesFormatError({
      file: db.file('sample_annotation'),
      record: annIndex(),
      field: 'instance_token',
      expected: 'an instance of a detection-benchmark category',
      found: category.name,
    });
  }
  if (ann.attribute_tokens.length > 1) {
    throw new NuScenesFormatError({
      file: db.file('sample_annotation'),
      record: annIndex(),
      field: 'attribute_tokens',
      expected: 'at most one attribute',
      found: `${ann.attribute_tokens.length}`,
    });
  }
  const visibility = visibilityLevel(db, ann.visibility_token);
  if (visibility === undefined) {
    throw new NuScenesFormatError({
      file: db.file('sample_annotation'),
      record: annIndex(),
      field: 'visibility_token',
      expected: `a visibility record with level ${VISIBILITY_LEVELS.join('/')}`,
      found: JSON.stringify(ann.visibility_token),
    });
  }
  return {
    ...boxFromAnnotationGeometry(ann),
    detectionName,
    categoryName: category.name,
    attributeName: ann.attribute_tokens.length === 1 ? db.get('attribute', ann.attribute_tokens[0]).name : '',
    numLidarPts: ann.num_lidar_pts,
    visibility,
    instanceId: ann.instance_token,
  };
}
