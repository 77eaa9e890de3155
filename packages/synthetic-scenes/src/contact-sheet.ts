import {
  invertPose,
  transformPoint,
  type CameraChannel,
  type Frame,
  type RgbImage,
} from '@bevzip/driving-data';
import { POINT_STRIDE } from './lidar-render';

/** Module-scope alias: global lookups are slow inside vm contexts (jest, sandboxes), and this is hot code. */
const math = Math;

const SHEET_LAYOUT: CameraChannel[][] = [
  ['CAM_FRONT_LEFT', 'CAM_FRONT', 'CAM_FRONT_RIGHT'],
  ['CAM_BACK_LEFT', 'CAM_BACK', 'CAM_BACK_RIGHT'],
];

/** The six camera images of a frame tiled 3×2 (front row on top), each enlarged `scale`× with a 2 px gap. */
export function cameraContactSheet(frame: Frame, scale = 4): RgbImage {
  const cam0 = frame.cameras[0];
  const tw = cam0.width * scale + 2;
  const th = cam0.height * scale + 2;
  const out: RgbImage = { width: tw * 3, height: th * 2, data: new Uint8Array(tw * 3 * th * 2 * 3) };
  SHEET_LAYOUT.forEach((row, r) =>
    row.forEach((channel, c) => {
      const cam = frame.cameras.find((x) => x.channel === channel);
      if (!cam) return;
      for (let y = 0; y < cam.height * scale; y++) {
        for (let x = 0; x < cam.width * scale; x++) {
          const src = (math.floor(y / scale) * cam.width + math.floor(x / scale)) * 3;
          const dst = ((r * th + y) * out.width + c * tw + x) * 3;
          out.data.set(cam.image.subarray(src, src + 3), dst);
        }
      }
    }),
  );
  return out;
}

/**
 * A top view of a frame in the ego frame (x up, y left), `px` pixels per metre over ±range:
 * map masks as dim colours, LiDAR points by intensity, label box centres as red dots.
 */
export function bevPreview(frame: Frame, range = 25.6, px = 6): RgbImage {
  const n = math.round(2 * range * px);
  const img: RgbImage = { width: n, height: n, data: new Uint8Array(n * n * 3) };
  const put = (x: number, y: number, rgb: [number, number, number]) => {
    const row = math.floor((range - x) * px);
    const col = math.floor((range - y) * px);
    if (row < 0 || col < 0 || row >= n || col >= n) return;
    img.data.set(rgb, (row * n + col) * 3);
  };
  const map = frame.map;
  if (map) {
    const step = 1 / px;
    for (let x = -range; x < range; x += step) {
      for (let y = -range; y < range; y += step) {
        const i = math.floor((x - map.xmin) / map.cell);
        const j = math.floor((y - map.ymin) / map.cell);
        if (i < 0 || j < 0 || i >= map.size[0] || j >= map.size[1]) continue;
        const on = map.masks.map((m) => m[i * map.size[1] + j]);
        if (on[1]) put(x, y, [90, 90, 20]);
        else if (on[0]) put(x, y, [30, 30, 60]);
      }
    }
  }
  const { points } = frame.lidar;
  for (let p = 0; p < points.length; p += POINT_STRIDE) {
    const e = transformPoint(frame.lidar.calib, [points[p], points[p + 1], points[p + 2]]);
    const v = math.min(255, 60 + points[p + 3] * 2);
    put(e[0], e[1], [v, v, v]);
  }
  const toEgo = invertPose(frame.egoPose);
  for (const b of frame.boxes) {
    const c = transformPoint(toEgo, b.center);
    for (let dx = -0.3; dx <= 0.3; dx += 0.15) for (let dy = -0.3; dy <= 0.3; dy += 0.15) put(c[0] + dx, c[1] + dy, [255, 40, 40]);
  }
  return img;
}

/** Places images side by side (top-aligned) with a gap. */
export function hconcat(images: RgbImage[], gap = 4): RgbImage {
  const width = images.reduce((w, im) => w + im.width, 0) + gap * (images.length - 1);
  const height = math.max(...images.map((im) => im.height));
  const out: RgbImage = { width, height, data: new Uint8Array(width * height * 3) };
  let x0 = 0;
  for (const im of images) {
    for (let y = 0; y < im.height; y++) out.data.set(im.data.subarray(y * im.width * 3, (y + 1) * im.width * 3), (y * width + x0) * 3);
    x0 += im.width + gap;
  }
  return out;
}

/** Stacks images vertically (left-aligned) with a gap. */
export function vconcat(images: RgbImage[], gap = 4): RgbImage {
  const width = math.max(...images.map((im) => im.width));
  const height = images.reduce((h, im) => h + im.height, 0) + gap * (images.length - 1);
  const out: RgbImage = { width, height, data: new Uint8Array(width * height * 3) };
  let y0 = 0;
  for (const im of images) {
    for (let y = 0; y < im.height; y++) out.data.set(im.data.subarray(y * im.width * 3, (y + 1) * im.width * 3), ((y0 + y) * width) * 3);
    y0 += im.height + gap;
  }
  return out;
}
