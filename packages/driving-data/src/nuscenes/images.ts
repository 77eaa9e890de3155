import { existsSync, readFileSync } from 'node:fs';
import { decode as decodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';
import { NuScenesFormatError } from './errors';

/** A decoded RGB image, row-major height×width×3. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47];
const JPEG_MAGIC = [0xff, 0xd8];

function startsWith(bytes: Uint8Array, magic: number[]): boolean {
  return magic.every((b, i) => bytes[i] === b);
}

function rgbaToRgb(rgba: Uint8Array, pixels: number): Uint8Array {
  const rgb = new Uint8Array(pixels * 3);
  for (let p = 0; p < pixels; p++) {
    rgb[p * 3] = rgba[p * 4];
    rgb[p * 3 + 1] = rgba[p * 4 + 1];
    rgb[p * 3 + 2] = rgba[p * 4 + 2];
  }
  return rgb;
}

/** Encodes an RGB image as an 8-bit RGB PNG. */
export function encodePng(image: RgbImage): Buffer {
  if (image.data.length !== image.width * image.height * 3) {
    throw new RangeError(
      `encodePng: expected ${image.width}×${image.height}×3 = ${image.width * image.height * 3} bytes, got ${image.data.length}`,
    );
  }
  const png = new PNG({ width: image.width, height: image.height, inputColorType: 2, colorType: 2 });
  png.data = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  return PNG.sync.write(png, { inputColorType: 2, colorType: 2 });
}

/**
 * Decodes PNG (via pngjs) or JPEG (via jpeg-js; real nuScenes images are JPEG) to RGB, choosing
 * by the file's magic bytes. When `expected` is given, a different size is an error.
 */
export function decodeImage(
  bytes: Uint8Array,
  file: string,
  expected?: { width: number; height: number },
): RgbImage {
  let image: RgbImage;
  try {
    if (startsWith(bytes, PNG_MAGIC)) {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      image = { width: png.width, height: png.height, data: rgbaToRgb(png.data, png.width * png.height) };
    } else if (startsWith(bytes, JPEG_MAGIC)) {
      const jpg = decodeJpeg(bytes, { useTArray: true, formatAsRGBA: true });
      image = { width: jpg.width, height: jpg.height, data: rgbaToRgb(jpg.data, jpg.width * jpg.height) };
    } else {
      throw new Error('unrecognised signature');
    }
  } catch (err) {
    throw new NuScenesFormatError({
      file,
      expected: 'a readable PNG or JPEG image',
      found: (err as Error).message,
    });
  }
  if (expected !== undefined && (image.width !== expected.width || image.height !== expected.height)) {
    throw new NuScenesFormatError({
      file,
      expected: `an image of ${expected.width}×${expected.height} pixels (sample_data width×height)`,
      found: `${image.width}×${image.height}`,
    });
  }
  return image;
}

/** Reads and decodes an image file; see {@link decodeImage}. */
export function readImage(file: string, expected?: { width: number; height: number }): RgbImage {
  if (!existsSync(file)) {
    throw new NuScenesFormatError({
      file,
      expected: 'the camera image file to exist',
      found: 'no such file',
    });
  }
  return decodeImage(readFileSync(file), file, expected);
}
