/**
 * Synthetic anomalies made from held-out normal wells, a second validation set of spill-like defects.
 *
 * Why: proliv/ is a single spill event (154 near-identical frames), so every reasonable detector separates it
 * perfectly and validation AUROC saturates at 1.0; it cannot rank models or scores. Local defects of varied size,
 * place and colour, pasted on held-out normals, measure what matters for unseen spills: does a *small* foreign
 * region raise the score above normal variation? No test image is looked at to make them.
 *
 * Kinds (each a generic defect model used in anomaly-detection benchmarks):
 *   speckle   an ellipse of bright, high-variance noise (molten metal glitter), radius 10–30 % of the image
 *   stain     an ellipse made darker or brighter by 0.08–0.25 with a slight tint, soft-edged (a splash or residue)
 *   cutpaste  a rectangle copied from another place of the same image (CutPaste, Li et al. 2021)
 * and defects that *remove* texture or shift colour, which a reconstruction error barely sees (the decoder reproduces
 * a smooth patch easily) but a well that is too regular is as abnormal as one that is too rough (PROTOCOL-3.md):
 *   blur      an ellipse replaced by a box-blurred copy of itself (radius 3–5 px), soft-edged
 *   flat      an ellipse filled with its own mean colour, soft-edged (a uniform pool of metal)
 *   inpaint   an ellipse filled by diffusion from its border (Laplace inpainting: the texture inside is gone)
 * The three texture-removing ellipses are larger than the others, 30–50 % of the smaller side (`textureRadius`): a
 * spill that smooths a well covers most of it (PROTOCOL-3.md, amendment B).
 *   cast      a colour cast over the whole image: each channel scaled by 1 ± 5–15 % (a brightness change when grey)
 *
 *   const syn = syntheticAnomalies(heldOutNormals, [32, 48, 3], { seed: 7 });
 *   syn.data   // Float32Array, one defect per input image; syn.kinds[i] says which
 */
import { mulberry32, type Rng } from "../common/random";

export const ANOMALY_KINDS = ["speckle", "stain", "cutpaste", "blur", "flat", "inpaint", "cast"] as const;
export type AnomalyKind = (typeof ANOMALY_KINDS)[number];

export interface SyntheticOptions {
  seed?: number;
  kinds?: readonly AnomalyKind[];
  /** Radius range of ellipses and rectangles, as a fraction of the image's smaller side. */
  minRadius?: number;
  maxRadius?: number;
  /** [min, max] radius of the blur / flat / inpaint ellipses, as a fraction of the smaller side. Default [0.3, 0.5]. */
  textureRadius?: readonly [number, number];
}

const DEFAULT_TEXTURE_RADIUS = [0.3, 0.5] as const;

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

function ellipse(rand: Rng, h: number, w: number, minR: number, maxR: number) {
  const side = Math.min(h, w);
  const ry = side * (minR + (maxR - minR) * rand());
  const rx = ry * (0.7 + 0.8 * rand());
  const cy = h * (0.25 + 0.5 * rand());
  const cx = w * (0.25 + 0.5 * rand());
  /** 1 inside, fading to 0 over the outer fifth. */
  return (y: number, x: number) => {
    const d = Math.sqrt(((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2);
    return d >= 1 ? 0 : d <= 0.8 ? 1 : (1 - d) / 0.2;
  };
}

/** Put one defect into a copy of `image` (HWC). */
export function addDefect(
  image: Float32Array,
  shape: readonly [number, number, number],
  kind: AnomalyKind,
  rand: Rng,
  o: SyntheticOptions = {},
): Float32Array {
  const [h, w, c] = shape;
  const minR = o.minRadius ?? 0.1;
  const maxR = o.maxRadius ?? 0.3;
  const out = Float32Array.from(image);
  if (kind === "cutpaste") {
    const side = Math.min(h, w);
    const ph = Math.max(2, Math.round(2 * side * (minR + (maxR - minR) * rand())));
    const pw = Math.max(2, Math.round(ph * (0.7 + 0.8 * rand())));
    const sy = Math.floor(rand() * (h - ph)),
      sx = Math.floor(rand() * (w - pw));
    const dy = Math.floor(rand() * (h - ph)),
      dx = Math.floor(rand() * (w - pw));
    for (let y = 0; y < ph; y++)
      for (let x = 0; x < pw; x++)
        for (let k = 0; k < c; k++) out[((dy + y) * w + dx + x) * c + k] = image[((sy + y) * w + sx + x) * c + k];
    return out;
  }
  if (kind === "cast") {
    const gain = Array.from({ length: c }, () => 1 + (rand() < 0.5 ? -1 : 1) * (0.05 + 0.1 * rand()));
    for (let i = 0; i < out.length; i++) out[i] = clamp01(image[i] * gain[i % c]);
    return out;
  }
  if (kind === "blur" || kind === "flat" || kind === "inpaint") {
    const [tMin, tMax] = o.textureRadius ?? DEFAULT_TEXTURE_RADIUS;
    const inside = ellipse(rand, h, w, tMin, tMax);
    const target =
      kind === "blur"
        ? boxBlur(image, h, w, c, 3 + Math.floor(3 * rand()))
        : kind === "flat"
          ? meanFill(image, h, w, c, inside)
          : inpaint(image, h, w, c, inside);
    for (let p = 0; p < h * w; p++) {
      const a = inside(Math.floor(p / w), p % w);
      if (a > 0) for (let k = 0; k < c; k++) out[p * c + k] = (1 - a) * image[p * c + k] + a * target[p * c + k];
    }
    return out;
  }
  const inside = ellipse(rand, h, w, minR, maxR);
  const colour = Array.from({ length: c }, () => rand());
  const shift = (rand() < 0.5 ? -1 : 1) * (0.08 + 0.17 * rand());
  const tint = Array.from({ length: c }, () => 0.05 * (rand() - 0.5));
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const a = inside(y, x);
      if (a === 0) continue;
      const glitter = rand();
      for (let k = 0; k < c; k++) {
        const i = (y * w + x) * c + k;
        const target =
          kind === "speckle"
            ? clamp01(0.55 + 0.45 * glitter * (0.6 + 0.4 * colour[k]) + 0.15 * (rand() - 0.5))
            : clamp01(image[i] + shift + tint[k]);
        out[i] = (1 - a) * image[i] + a * target;
      }
    }
  return out;
}

/** Each pixel the mean of its (2r+1)² window, clipped at the borders. */
function boxBlur(image: Float32Array, h: number, w: number, c: number, r: number): Float32Array {
  const out = new Float32Array(image.length);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let k = 0; k < c; k++) {
        let sum = 0,
          count = 0;
        for (let yy = Math.max(0, y - r); yy <= Math.min(h - 1, y + r); yy++)
          for (let xx = Math.max(0, x - r); xx <= Math.min(w - 1, x + r); xx++, count++)
            sum += image[(yy * w + xx) * c + k];
        out[(y * w + x) * c + k] = sum / count;
      }
  return out;
}

/** The image with every pixel set to the mean colour of the region where `inside` > 0. */
function meanFill(
  image: Float32Array,
  h: number,
  w: number,
  c: number,
  inside: (y: number, x: number) => number,
): Float32Array {
  const sum = new Float64Array(c);
  let count = 0;
  for (let p = 0; p < h * w; p++)
    if (inside(Math.floor(p / w), p % w) > 0) {
      count++;
      for (let k = 0; k < c; k++) sum[k] += image[p * c + k];
    }
  return Float32Array.from({ length: image.length }, (_, i) => (count ? sum[i % c] / count : image[i]));
}

/** Laplace inpainting: pixels inside the region relax to the mean of their 4 neighbours, the outside held fixed. */
function inpaint(
  image: Float32Array,
  h: number,
  w: number,
  c: number,
  inside: (y: number, x: number) => number,
): Float32Array {
  const out = Float32Array.from(image);
  const hole: number[] = [];
  for (let p = 0; p < h * w; p++) if (inside(Math.floor(p / w), p % w) > 0) hole.push(p);
  const fill = meanFill(image, h, w, c, inside);
  for (const p of hole) for (let k = 0; k < c; k++) out[p * c + k] = fill[p * c + k];
  for (let iter = 0; iter < 60; iter++)
    for (const p of hole) {
      const y = Math.floor(p / w),
        x = p % w;
      const nb = [y > 0 ? p - w : -1, y < h - 1 ? p + w : -1, x > 0 ? p - 1 : -1, x < w - 1 ? p + 1 : -1].filter(
        (q) => q >= 0,
      );
      for (let k = 0; k < c; k++) {
        let s = 0;
        for (const q of nb) s += out[q * c + k];
        out[p * c + k] = s / nb.length;
      }
    }
  return out;
}

/** One defect per input image, kinds taken in turn; reproducible by seed. */
export function syntheticAnomalies(
  images: Float32Array,
  shape: readonly [number, number, number],
  options: SyntheticOptions = {},
) {
  const per = shape[0] * shape[1] * shape[2];
  const n = images.length / per;
  if (!Number.isInteger(n) || n === 0)
    throw new Error(
      `syntheticAnomalies: ${images.length} values is not a non-empty batch of ${shape.join("×")} images`,
    );
  const kinds = options.kinds ?? ANOMALY_KINDS;
  const rand = mulberry32(options.seed ?? 7);
  const data = new Float32Array(images.length);
  const labels: AnomalyKind[] = [];
  for (let i = 0; i < n; i++) {
    const kind = kinds[i % kinds.length];
    data.set(addDefect(images.subarray(i * per, (i + 1) * per), shape, kind, rand, options), i * per);
    labels.push(kind);
  }
  return { data, kinds: labels };
}
