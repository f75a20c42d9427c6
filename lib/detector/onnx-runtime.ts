/**
 * Running an exported detector (lib/onnx-export) in onnxruntime-node: the reconstructions and the encoder
 * activations of a batch of NHWC images, and the feature statistics lib/features computes from them — the same
 * numbers as the tfjs path, within float rounding (tests/detector/onnx.test.ts), at native speed.
 *
 *   const runner = await OnnxRunner.open("models/wells-ae/model.onnx", featureSpec(model), { threads: 2 });
 *   const { reconstructions, features } = await runner.run(images, [32, 48, 3], { border: 0.25 });
 *   await runner.close();
 *
 * onnxruntime-node is a dependency whose CPU binaries ship inside its npm package (its install script, which would
 * fetch CUDA parts, is denied in package.json `allowScripts`). Where it cannot load, `onnxAvailable()` says why and
 * the callers (npm run score) fall back to tfjs.
 */
import type { FeatureSpec, ImageFeatures } from "./features";
import { imageCount } from "./shape";

type Ort = typeof import("onnxruntime-node");
let ortModule: Ort | null = null;
let ortError: string | null = null;

/** onnxruntime-node, or the reason it cannot load here. */
export function onnxAvailable(): { ok: true; ort: Ort } | { ok: false; reason: string } {
  // BAYES_DISABLE_ONNXRUNTIME=1 acts as if the package could not load (to test and to use the tfjs path on purpose)
  if (process.env.BAYES_DISABLE_ONNXRUNTIME === "1")
    return { ok: false, reason: "disabled by BAYES_DISABLE_ONNXRUNTIME=1" };
  if (ortModule) return { ok: true, ort: ortModule };
  if (ortError === null) {
    try {
      ortModule = require("onnxruntime-node") as Ort;
      return { ok: true, ort: ortModule };
    } catch (e) {
      ortError = (e as Error).message.split("\n")[0];
    }
  }
  return { ok: false, reason: ortError! };
}

/** Per-channel mean and population sd of an N×h×w×c NHWC block over its centre (lib/features' `border` rule). */
function momentsInto(
  out: Float64Array,
  at: number,
  data: Float32Array,
  img: number,
  h: number,
  w: number,
  c: number,
  border: number,
) {
  const dy = border === 0 ? 0 : Math.min(Math.round(h * border), Math.floor((h - 1) / 2));
  const dx = border === 0 ? 0 : Math.min(Math.round(w * border), Math.floor((w - 1) / 2));
  const sum = new Float64Array(c),
    sq = new Float64Array(c);
  const base = img * h * w * c;
  for (let y = dy; y < h - dy; y++)
    for (let x = dx; x < w - dx; x++) {
      const o = base + (y * w + x) * c;
      for (let k = 0; k < c; k++) {
        const v = data[o + k];
        sum[k] += v;
        sq[k] += v * v;
      }
    }
  const n = (h - 2 * dy) * (w - 2 * dx);
  for (let k = 0; k < c; k++) {
    const m = sum[k] / n;
    out[at + k] = m;
    out[at + c + k] = Math.sqrt(Math.max(0, sq[k] / n - m * m));
  }
}

/** The feature statistics of lib/features from the input and the activations, all NHWC. */
function featuresFromActivations(
  spec: FeatureSpec,
  images: Float32Array,
  shape: [number, number, number],
  acts: Record<string, { data: Float32Array; dims: number[] }>,
  border: number,
): ImageFeatures {
  const n = images.length / (shape[0] * shape[1] * shape[2]);
  const data = new Float64Array(n * spec.size);
  for (let i = 0; i < n; i++) {
    let at = i * spec.size;
    for (const p of spec.parts) {
      if (p.layer === "image") momentsInto(data, at, images, i, shape[0], shape[1], shape[2], border);
      else if (p.kind === "code") data.set(acts[p.layer].data.subarray(i * p.channels, (i + 1) * p.channels), at);
      else {
        const [, h, w, c] = acts[p.layer].dims;
        momentsInto(data, at, acts[p.layer].data, i, h, w, c, border);
      }
      at += p.kind === "code" ? p.channels : 2 * p.channels;
    }
  }
  return { data, count: n, spec };
}

export class OnnxRunner {
  private constructor(
    private readonly session: import("onnxruntime-node").InferenceSession,
    private readonly ort: Ort,
    readonly spec: FeatureSpec,
    readonly file: string,
  ) {}

  static async open(file: string, spec: FeatureSpec, options: { threads?: number } = {}): Promise<OnnxRunner> {
    const a = onnxAvailable();
    if (!a.ok) throw new Error(`onnxruntime-node cannot load: ${a.reason}`);
    const session = await a.ort.InferenceSession.create(file, {
      intraOpNumThreads: options.threads ?? 0,
      interOpNumThreads: 1,
      graphOptimizationLevel: "all",
    });
    const want = ["reconstruction", ...spec.parts.slice(1).map((p) => `feature:${p.layer}`)];
    const missing = want.filter((o) => !session.outputNames.includes(o));
    if (missing.length)
      throw new Error(
        `${file} lacks the outputs ${missing.join(", ")} of this model's layers (${spec.layers.join(", ")}); ` +
          "export it again with npm run export-onnx",
      );
    return new OnnxRunner(session, a.ort, spec, file);
  }

  /** Reconstructions (like the images) and the features of every image, in batches. */
  async run(
    images: Float32Array,
    shape: [number, number, number],
    options: { border?: number; batchSize?: number; features?: boolean } = {},
  ): Promise<{ reconstructions: Float32Array; features: ImageFeatures | null }> {
    const per = shape[0] * shape[1] * shape[2];
    const n = imageCount(images, shape, "OnnxRunner");
    const batch = options.batchSize ?? 256;
    let reconstructions = new Float32Array(images.length); // resized below if the output is not image-shaped
    const wantFeatures = options.features ?? true;
    const featureParts = this.spec.parts.slice(1);
    const data = wantFeatures ? new Float64Array(n * this.spec.size) : null;
    for (let s = 0; s < n; s += batch) {
      const m = Math.min(batch, n - s);
      const part = images.subarray(s * per, (s + m) * per);
      const input = new this.ort.Tensor("float32", part, [m, ...shape]);
      const fetches = ["reconstruction", ...(wantFeatures ? featureParts.map((p) => `feature:${p.layer}`) : [])];
      const out = await this.session.run({ image: input }, fetches);
      const rec = out.reconstruction.data as Float32Array;
      const recPer = rec.length / m;
      if (recPer !== per && s === 0) reconstructions = new Float32Array(n * recPer);
      reconstructions.set(rec, s * recPer);
      if (data) {
        // the statistics of this batch only: activations are never held for more than one batch
        const acts = Object.fromEntries(
          featureParts.map((p) => [
            p.layer,
            { data: out[`feature:${p.layer}`].data as Float32Array, dims: out[`feature:${p.layer}`].dims as number[] },
          ]),
        );
        data.set(featuresFromActivations(this.spec, part, shape, acts, options.border ?? 0).data, s * this.spec.size);
      }
      for (const t of Object.values(out)) t.dispose?.();
    }
    return { reconstructions, features: data ? { data, count: n, spec: this.spec } : null };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
