/**
 * Photometric and geometric jitter of training images, in place: the autoencoder learns that lighting, contrast,
 * left–right orientation, framing and scale of a normal well are normal, so a new day's lighting or a camera's
 * slightly larger crop does not look like a spill.
 *
 *   augmentInPlace(batch, [32, 48, 3], count, mulberry32(epoch), DEFAULT_AUGMENT)
 *   augmentInPlace(batch, [32, 48, 3], count, mulberry32(epoch), GEOMETRIC_AUGMENT)  // + zoom and shift
 */
import type { Rng } from "../common/random";

export interface AugmentOptions {
  /** Largest brightness offset added to every value (uniform in ±brightness). */
  brightness: number;
  /** Contrast factor range around the image mean: uniform in [1 − contrast, 1 + contrast]. */
  contrast: number;
  /** Mirror left–right with probability 1/2. */
  flip: boolean;
  /** Zoom each axis independently by a factor uniform in [1 − zoom, 1 + zoom] about the centre (0 = off). */
  zoom?: number;
  /** Translate by up to this many pixels on each axis (uniform, sub-pixel; 0 = off). */
  shift?: number;
}

export const DEFAULT_AUGMENT: AugmentOptions = { brightness: 0.06, contrast: 0.25, flip: true };
/** Photometric jitter plus framing: test crops are larger on average than train/ crops (README, experiment 6). */
export const GEOMETRIC_AUGMENT: AugmentOptions = { ...DEFAULT_AUGMENT, zoom: 0.12, shift: 2 };

/**
 * Resample one HWC image through a zoom (sy, sx > 1 enlarges) about the centre and a translation (ty, tx pixels),
 * bilinear, with edge pixels repeated outside the frame. Own code: sharp works on encoded images and tf.image on
 * tensors, both far slower per small image than this loop on the batch buffer.
 */
export function zoomShift(
  src: Float32Array,
  dst: Float32Array,
  shape: readonly [number, number, number],
  sy: number,
  sx: number,
  ty: number,
  tx: number,
): void {
  const [h, w, c] = shape;
  const cy = (h - 1) / 2,
    cx = (w - 1) / 2;
  for (let y = 0; y < h; y++) {
    let fy = cy + (y - cy) / sy - ty;
    fy = fy < 0 ? 0 : fy > h - 1 ? h - 1 : fy;
    const y0 = Math.floor(fy),
      y1 = Math.min(y0 + 1, h - 1),
      wy = fy - y0;
    for (let x = 0; x < w; x++) {
      let fx = cx + (x - cx) / sx - tx;
      fx = fx < 0 ? 0 : fx > w - 1 ? w - 1 : fx;
      const x0 = Math.floor(fx),
        x1 = Math.min(x0 + 1, w - 1),
        wx = fx - x0;
      const a = (y0 * w + x0) * c,
        b = (y0 * w + x1) * c,
        d = (y1 * w + x0) * c,
        e = (y1 * w + x1) * c,
        o = (y * w + x) * c;
      for (let k = 0; k < c; k++)
        dst[o + k] =
          (1 - wy) * ((1 - wx) * src[a + k] + wx * src[b + k]) + wy * ((1 - wx) * src[d + k] + wx * src[e + k]);
    }
  }
}

export function augmentInPlace(
  batch: Float32Array,
  shape: readonly [number, number, number],
  count: number,
  rand: Rng,
  o: AugmentOptions = DEFAULT_AUGMENT,
): void {
  const [h, w, c] = shape;
  const per = h * w * c;
  if (count * per > batch.length)
    throw new Error(`augment: ${count} images of ${shape.join("×")} do not fit a batch of ${batch.length} values`);
  const zoom = o.zoom ?? 0,
    shift = o.shift ?? 0;
  if (!(zoom >= 0 && zoom < 1)) throw new Error(`augment: zoom must be in [0, 1), got ${zoom}`);
  const copy = zoom > 0 || shift > 0 ? new Float32Array(per) : null;
  for (let n = 0; n < count; n++) {
    const img = batch.subarray(n * per, (n + 1) * per);
    if (copy) {
      copy.set(img);
      const sy = 1 + zoom * (2 * rand() - 1),
        sx = 1 + zoom * (2 * rand() - 1);
      const ty = shift * (2 * rand() - 1),
        tx = shift * (2 * rand() - 1);
      zoomShift(copy, img, shape, sy, sx, ty, tx);
    }
    if (o.flip && rand() < 0.5)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w >> 1; x++)
          for (let k = 0; k < c; k++) {
            const a = (y * w + x) * c + k,
              b = (y * w + (w - 1 - x)) * c + k;
            const t = img[a];
            img[a] = img[b];
            img[b] = t;
          }
    const gain = 1 + o.contrast * (2 * rand() - 1);
    const offset = o.brightness * (2 * rand() - 1);
    let mean = 0;
    for (let i = 0; i < per; i++) mean += img[i];
    mean /= per;
    for (let i = 0; i < per; i++) {
      const v = (img[i] - mean) * gain + mean + offset;
      img[i] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
  }
}
