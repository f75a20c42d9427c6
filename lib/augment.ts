/**
 * Photometric and geometric jitter of training images, in place: the autoencoder learns that lighting, contrast and
 * left–right orientation of a normal well are normal, so a new day's lighting does not look like a spill.
 *
 *   augmentInPlace(batch, [32, 48, 3], count, mulberry32(epoch), DEFAULT_AUGMENT)
 */
import { Rng } from "./random";

export interface AugmentOptions {
  /** Largest brightness offset added to every value (uniform in ±brightness). */
  brightness: number;
  /** Contrast factor range around the image mean: uniform in [1 − contrast, 1 + contrast]. */
  contrast: number;
  /** Mirror left–right with probability 1/2. */
  flip: boolean;
}

export const DEFAULT_AUGMENT: AugmentOptions = { brightness: 0.06, contrast: 0.25, flip: true };

export function augmentInPlace(batch: Float32Array, shape: readonly [number, number, number], count: number, rand: Rng, o: AugmentOptions = DEFAULT_AUGMENT): void {
  const [h, w, c] = shape;
  const per = h * w * c;
  if (count * per > batch.length) throw new Error(`augment: ${count} images of ${shape.join("×")} do not fit a batch of ${batch.length} values`);
  for (let n = 0; n < count; n++) {
    const img = batch.subarray(n * per, (n + 1) * per);
    if (o.flip && rand() < 0.5)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w >> 1; x++)
          for (let k = 0; k < c; k++) {
            const a = (y * w + x) * c + k, b = (y * w + (w - 1 - x)) * c + k;
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
