/**
 * Convolution gradient kernels for the wasm backend, built on its own XNNPACK code.
 *
 * tfjs-backend-wasm 4.22 has no `Conv2DBackpropFilter` (so conv nets cannot train on it) and its
 * `Conv2DBackpropInput` is a scalar loop (2–3 GFLOP/s here, against 30+ for its XNNPACK matrix multiply and
 * convolution). Both are rewritten here as calls into that fast code, NHWC, dilation 1:
 *
 * - Conv2DBackpropFilter: dW[kh, kw] = Xshift(kh, kw)ᵀ · dY for each of the kh·kw taps. x is copied once into
 *   channel-major "phase planes" (one per stride phase, zero-padded) laid out so that every tap's Xshiftᵀ is a
 *   contiguous [inChannels, L] block of one plane at a fixed offset, and dY onto the matching [L, outChannels]
 *   grid (zeros off the real outputs). Each tap is then one XNNPACK matmul on views of the wasm heap, writing
 *   straight into its slice of dW: no im2col matrix (which would be 9× the size of x), no copies out of wasm.
 * - Conv2DBackpropInput (also the forward pass of conv2dTranspose): split the input gradient by stride phase
 *   (row % strideH, col % strideW). Each phase is an ordinary stride-1 convolution of dy with a sub-kernel of
 *   the flipped taps that land on it, run by the backend's XNNPACK Conv2D; the phases are then interleaved.
 *   Exactly the useful multiply-adds, none on the zeros a dilated input would hold.
 *
 *   tf.registerKernel({ kernelName: "Conv2DBackpropFilter", backendName: "wasm", kernelFunc: conv2dBackpropFilterWasm });
 */
import * as tf from "@tensorflow/tfjs";
import type { KernelFunc, NamedAttrMap, TensorInfo } from "@tensorflow/tfjs";
import { wasmInternals, type WasmBackendLike } from "./wasm-heap";

type Conv2DInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;

interface KernelArgs {
  inputs: Record<string, TensorInfo>;
  backend: unknown;
  attrs?: NamedAttrMap;
}

/** Geometry of a conv2d, from the attrs every conv kernel gets. Throws for what these kernels do not cover. */
export function convInfo(kernel: string, xShape: number[], filterShape: number[], attrs: NamedAttrMap): Conv2DInfo {
  const format = tf.backend_util.convertConv2DDataFormat((attrs.dataFormat as "NHWC" | "NCHW") ?? "NHWC");
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as number | [number, number],
    1,
    attrs.pad as "same" | "valid",
    attrs.dimRoundingMode as "round" | undefined,
    false,
    format,
  );
  if (info.dataFormat !== "channelsLast")
    throw new Error(`${kernel} (project kernel): only NHWC (channelsLast) is supported, got ${String(attrs.dataFormat)}`);
  return info;
}

/** Floats of x-planes plus dY per matmul group (≈1 MB, a share of L2): tuned on the project's autoencoder. */
export let FILTER_GRAD_GROUP_FLOATS = 1 << 18;
export function setFilterGradGroupFloats(n: number): void {
  FILTER_GRAD_GROUP_FLOATS = n;
}

/** Conv2DBackpropFilter for the wasm backend: inputs {x, dy}, attrs {strides, pad, dataFormat, dimRoundingMode, filterShape}. */
export function conv2dBackpropFilterWasm(args: KernelArgs): TensorInfo {
  const { x, dy } = args.inputs;
  const attrs = args.attrs ?? {};
  const c = convInfo("Conv2DBackpropFilter", x.shape, attrs.filterShape as number[], attrs);
  const backend = args.backend as WasmBackendLike;
  const heap = wasmInternals(backend);
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: CI, outHeight: Ho, outWidth: Wo, outChannels: CO } = c;
  const { filterHeight: KH, filterWidth: KW, strideHeight: SH, strideWidth: SW } = c;
  const pt = c.padInfo.top;
  const pl = c.padInfo.left;

  // Phase plane (a, b) holds x[n, SH·i + a − pt, SW·j + b − pl, ci] at [ci][n][i][j], i < HQ, j < WQ (0 outside x).
  // Tap (kh, kw) reads plane (kh % SH, kw % SW) shifted by (⌊kh/SH⌋, ⌊kw/SW⌋) rows/cols: with the grid HQ × WQ
  // that shift is a constant offset, and every output position (i < Ho, j < Wo) stays inside its image's grid.
  // Reads that run past an image (or into the next channel) meet zero rows of the dY grid, so they add nothing.
  // Images go in groups: a group's planes and dY grid are built, used by the KH·KW matmuls while still in cache,
  // and the scratch is reused by the next group.
  const nA = Math.min(SH, KH);
  const nB = Math.min(SW, KW);
  const HQ = Ho + Math.floor((KH - 1) / SH);
  const WQ = Wo + Math.floor((KW - 1) / SW);
  const LQ = HQ * WQ; // grid positions per image
  const G = Math.max(1, Math.min(N, Math.floor(FILTER_GRAD_GROUP_FLOATS / (LQ * (nA * nB * CI + CO)))));
  const slack = Math.floor((KH - 1) / SH) * WQ + Math.floor((KW - 1) / SW); // the last tap reads this far past the end
  const planeFloats = G * nA * nB * CI * LQ + slack;
  const tapFloats = CI * CO;
  const dWFloats = KH * KW * tapFloats;

  const dW = backend.makeOutput(c.filterShape, "float32");
  const planesAt = heap.alloc(planeFloats);
  const gridAt = heap.alloc(G * LQ * CO);
  const partAt = N > G ? heap.alloc(dWFloats) : 0;
  const dWAt = heap.offsetOf(dW);
  // Views are taken after the last allocation: growing the wasm memory detaches older ones.
  const xs = heap.f32(heap.offsetOf(x), N * H * W * CI);
  const dys = heap.f32(heap.offsetOf(dy), N * Ho * Wo * CO);
  const planes = heap.f32(planesAt, planeFloats);
  const grid = heap.f32(gridAt, G * LQ * CO);
  const acc = heap.f32(dWAt, dWFloats);
  const part = partAt ? heap.f32(partAt, dWFloats) : acc;

  for (let n0 = 0; n0 < N; n0 += G) {
    const count = Math.min(G, N - n0);
    const width = count * LQ; // one channel's row of a plane, for this group
    planes.fill(0, 0, nA * nB * CI * width + slack);
    for (let n = n0; n < n0 + count; n++) {
      const base = (n - n0) * LQ;
      for (let ih = 0; ih < H; ih++) {
        const r = ih + pt;
        const a = r % SH;
        const i = (r - a) / SH;
        if (a >= nA || i >= HQ) continue; // a row no tap reads
        for (let iw = 0; iw < W; iw++) {
          const col = iw + pl;
          const b = col % SW;
          const j = (col - b) / SW;
          if (b >= nB || j >= WQ) continue;
          const src = ((n * H + ih) * W + iw) * CI;
          let dst = base + (a * nB + b) * CI * width + i * WQ + j;
          for (let ci = 0; ci < CI; ci++, dst += width) planes[dst] = xs[src + ci];
        }
      }
    }
    // dY on the HQ × WQ grid, zero where there is no real output.
    grid.fill(0, 0, width * CO);
    for (let n = n0; n < n0 + count; n++)
      for (let i = 0; i < Ho; i++) grid.set(dys.subarray((n * Ho + i) * Wo * CO, (n * Ho + i + 1) * Wo * CO), ((n - n0) * HQ + i) * WQ * CO);

    const B = heap.view(gridAt, [1, width, CO]);
    const outAt = n0 === 0 ? dWAt : partAt; // later groups go to scratch, then are added to dW
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        const plane = ((kh % SH) * nB + (kw % SW)) * CI * width;
        const shift = Math.floor(kh / SH) * WQ + Math.floor(kw / SW);
        const A = heap.view(planesAt + 4 * (plane + shift), [1, CI, width]);
        const out = heap.view(outAt + 4 * (kh * KW + kw) * tapFloats, [1, CI, CO]);
        heap.matMul(A, B, out);
        heap.release(A);
        heap.release(out);
      }
    }
    heap.release(B); // also drops the XNNPACK operator that packed this group's dY once for all taps
    if (n0 > 0) for (let k = 0; k < dWFloats; k++) acc[k] += part[k];
  }
  heap.free(planesAt);
  heap.free(gridAt);
  if (partAt) heap.free(partAt);
  return dW;
}

/** One stride phase of the input gradient: which filter taps land on it and how dy must be padded. */
export interface Phase {
  ph: number;
  pw: number;
  rows: number; // output rows in this phase: ⌈(H − ph) / SH⌉
  cols: number;
  kh0: number; // first tap; the others are kh0 + SH·t, t < th
  kw0: number;
  th: number;
  tw: number;
  /** Explicit padding of dy for the stride-1 convolution. */
  pad: [[number, number], [number, number], [number, number], [number, number]];
  /** Rows and columns of that convolution's output, and how many leading ones to skip (when dy had to be cropped). */
  convRows: number;
  convCols: number;
  skipRows: number;
  skipCols: number;
}

/** Split dx = conv2dBackpropInput(dy, W) into SH·SW stride-1 convolutions of dy, one per stride phase. */
export function inputGradPhases(c: Conv2DInfo): Phase[] {
  const { inHeight: H, inWidth: W, outHeight: Ho, outWidth: Wo, filterHeight: KH, filterWidth: KW, strideHeight: SH, strideWidth: SW } = c;
  const axis = (p: number, size: number, k: number, s: number, before: number, outSize: number) => {
    const n = Math.ceil((size - p) / s);
    const k0 = (((p + before) % s) + s) % s;
    const t = k0 < k ? Math.ceil((k - k0) / s) : 0;
    // Output index u of this phase sums dy[u + e − t'] · W[k0 + s·t'] over t' < t, with e = (p + before − k0) / s:
    // a correlation with the reversed taps, over dy padded by lo before and hi after. A negative pad is a crop;
    // the convolution then pads 0 and its extra leading/trailing outputs are skipped.
    const lo = t - 1 - (p + before - k0) / s;
    const hi = n - outSize - lo + t - 1;
    const conv = outSize + Math.max(lo, 0) + Math.max(hi, 0) - t + 1;
    return { n, k0, t, lo: Math.max(lo, 0), hi: Math.max(hi, 0), skip: Math.max(-lo, 0), conv };
  };
  const phases: Phase[] = [];
  for (let ph = 0; ph < SH; ph++) {
    for (let pw = 0; pw < SW; pw++) {
      const r = axis(ph, H, KH, SH, c.padInfo.top, Ho);
      const q = axis(pw, W, KW, SW, c.padInfo.left, Wo);
      if (r.n <= 0 || q.n <= 0) continue;
      phases.push({
        ph, pw, rows: r.n, cols: q.n, kh0: r.k0, kw0: q.k0, th: r.t, tw: q.t,
        pad: [[0, 0], [r.lo, r.hi], [q.lo, q.hi], [0, 0]],
        convRows: r.conv, convCols: q.conv, skipRows: r.skip, skipCols: q.skip,
      });
    }
  }
  return phases;
}

/**
 * Conv2DBackpropInput for the wasm backend: inputs {dy, filter}, attrs {strides, pad, dataFormat, dimRoundingMode, inputShape}.
 * `fallback` (the backend's own kernel) handles NCHW.
 */
export function makeConv2dBackpropInputWasm(fallback: () => KernelFunc | undefined): KernelFunc {
  return ((args: KernelArgs): TensorInfo => {
    const { dy, filter } = args.inputs;
    const attrs = args.attrs ?? {};
    if (((attrs.dataFormat as string | undefined) ?? "NHWC") !== "NHWC") {
      const stock = fallback();
      if (!stock) throw new Error("Conv2DBackpropInput (project kernel): NCHW needs the stock wasm kernel, which is missing");
      return stock(args as Parameters<KernelFunc>[0]) as TensorInfo;
    }
    const c = convInfo("Conv2DBackpropInput", attrs.inputShape as number[], filter.shape, attrs);
    const phases = inputGradPhases(c);
    const backend = args.backend as WasmBackendLike;
    const heap = wasmInternals(backend);
    const conv2d = tf.getKernel("Conv2D", "wasm").kernelFunc;
    const { batchSize: N, inHeight: H, inWidth: W, inChannels: CI, outChannels: CO, filterWidth: KW, strideHeight: SH, strideWidth: SW } = c;
    const p0 = phases[0];
    // Stride 1 with nothing to crop: the one convolution is dx itself.
    const single = phases.length === 1 && p0.skipRows === 0 && p0.skipCols === 0 && p0.convRows === H && p0.convCols === W;
    const dx = single ? null : backend.makeOutput(c.inShape, "float32");
    for (const p of phases) {
      if (p.th === 0 || p.tw === 0) {
        // No tap lands on this phase (stride > kernel): its rows/cols of dx are zero.
        interleave(null, heap.f32(heap.offsetOf(dx!), N * H * W * CI), p, N, H, W, CI, SH, SW);
        continue;
      }
      // Sub-kernel g[a, b, co, ci] = W[kh0 + SH·(th−1−a), kw0 + SW·(tw−1−b), ci, co]: flipped taps, channels swapped.
      const g = backend.makeOutput([p.th, p.tw, CO, CI], "float32");
      const gs = heap.f32(heap.offsetOf(g), p.th * p.tw * CO * CI);
      const ws = heap.f32(heap.offsetOf(filter), filter.shape.reduce((s, d) => s * d, 1));
      for (let a = 0; a < p.th; a++) {
        for (let b = 0; b < p.tw; b++) {
          const kh = p.kh0 + SH * (p.th - 1 - a);
          const kw = p.kw0 + SW * (p.tw - 1 - b);
          const wo = (kh * KW + kw) * CI * CO;
          const go = (a * p.tw + b) * CO * CI;
          for (let ci = 0; ci < CI; ci++) for (let co = 0; co < CO; co++) gs[go + co * CI + ci] = ws[wo + ci * CO + co];
        }
      }
      const out = conv2d({
        inputs: { x: dy, filter: g },
        backend: args.backend as Parameters<KernelFunc>[0]["backend"],
        attrs: { strides: [1, 1], pad: p.pad as unknown as number[], dilations: [1, 1], dataFormat: "NHWC" },
      }) as TensorInfo;
      backend.disposeData(g.dataId);
      if (single) return out;
      interleave(heap.f32(heap.offsetOf(out), N * p.convRows * p.convCols * CI), heap.f32(heap.offsetOf(dx!), N * H * W * CI), p, N, H, W, CI, SH, SW);
      backend.disposeData(out.dataId);
    }
    return dx!;
  }) as unknown as KernelFunc;
}

/** Copy one phase's convolution output [N, convRows, convCols, CI] into dx at rows SH·u + ph, cols SW·v + pw (zeros when src is null). */
function interleave(src: Float32Array | null, dx: Float32Array, p: Phase, N: number, H: number, W: number, CI: number, SH: number, SW: number): void {
  for (let n = 0; n < N; n++) {
    for (let u = 0; u < p.rows; u++) {
      let d = ((n * H + SH * u + p.ph) * W + p.pw) * CI;
      let s = ((n * p.convRows + u + p.skipRows) * p.convCols + p.skipCols) * CI;
      if (src === null) for (let v = 0; v < p.cols; v++, d += SW * CI) dx.fill(0, d, d + CI);
      else if (SW === 1) dx.set(src.subarray(s, s + p.cols * CI), d);
      else for (let v = 0; v < p.cols; v++, d += SW * CI) for (let ci = 0; ci < CI; ci++) dx[d + ci] = src[s++];
    }
  }
}
