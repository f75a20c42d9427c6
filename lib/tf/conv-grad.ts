/**
 * Convolution gradient kernels for the wasm backend, built on its own XNNPACK code.
 *
 * tfjs-backend-wasm 4.22 has no `Conv2DBackpropFilter` (so conv nets cannot train on it) and its
 * `Conv2DBackpropInput` is a scalar loop (2–3 GFLOP/s here, against 30+ for its XNNPACK matrix multiply and
 * convolution). Both are rewritten here as calls into that fast code, NHWC, dilation 1:
 *
 * - Conv2DBackpropFilter: dW[kh, kw] = Xshift(kh, kw)ᵀ · dY for each of the kh·kw taps. x is copied into
 *   channel-major "phase planes" (one per stride phase, zero-padded) laid out so that every tap's Xshiftᵀ is a
 *   contiguous [inChannels, L] block of one plane at a fixed offset, and dY onto the matching [L, outChannels]
 *   grid (zeros off the real outputs). Each tap is then one XNNPACK matmul on views of the wasm heap, writing
 *   straight into its slice of dW: no im2col matrix (9× the size of x), no copies out of wasm. On small grids
 *   (4×6 outputs, where the padding ring is half the grid) a real im2col is cheaper and is used instead:
 *   one matmul per group of images with 9·inChannels rows. Images are processed in cache-sized groups.
 * - Conv2DBackpropInput (also the forward pass of conv2dTranspose): split the input gradient by stride phase
 *   (row % strideH, col % strideW). Each phase is an ordinary stride-1 convolution of dy with a sub-kernel of
 *   the flipped taps that land on it, run by the backend's XNNPACK Conv2D; the phases are then interleaved.
 *   Exactly the useful multiply-adds, none on the zeros a dilated input would hold.
 *
 *   tf.registerKernel({
 *     kernelName: "Conv2DBackpropFilter",
 *     backendName: "wasm",
 *     kernelFunc: conv2dBackpropFilterWasm,
 *   });
 */
import * as tf from "@tensorflow/tfjs";
import type { KernelFunc, NamedAttrMap, TensorInfo } from "@tensorflow/tfjs";
import { wasmInternals, type WasmBackendLike, type WasmHeap } from "./wasm-heap";

type Conv2DInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;

/** What the engine passes a kernelFunc (typed loosely: each backend has its own class). */
export interface KernelArgs {
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
    throw new Error(
      `${kernel} (project kernel): only NHWC (channelsLast) is supported, got ${String(attrs.dataFormat)}`,
    );
  return info;
}

/** Floats of x-planes plus dY per matmul group (≈1 MB, a share of L2): tuned on the project's autoencoder. */
export let FILTER_GRAD_GROUP_FLOATS = 1 << 18;
export function setFilterGradGroupFloats(n: number): void {
  FILTER_GRAD_GROUP_FLOATS = n;
}

/**
 * Conv2DBackpropFilter for the wasm backend: inputs {x, dy}, attrs {strides, pad, dataFormat, dimRoundingMode,
 * filterShape}. Picks the cheaper of two layouts by a cost estimate (`filterGradMethod`).
 */
export function conv2dBackpropFilterWasm(args: KernelArgs): TensorInfo {
  const { x, dy } = args.inputs;
  const attrs = args.attrs ?? {};
  const c = convInfo("Conv2DBackpropFilter", x.shape, attrs.filterShape as number[], attrs);
  const backend = args.backend as WasmBackendLike;
  const method = FILTER_GRAD_METHOD ?? filterGradMethod(c);
  return method === "im2col" ? filterGradIm2col(c, x, dy, backend) : filterGradPlanes(c, x, dy, backend);
}

export type FilterGradMethod = "planes" | "im2col";
let FILTER_GRAD_METHOD: FilterGradMethod | undefined;
/** Force one method (tests, benchmarks); undefined restores the automatic choice. */
export function setFilterGradMethod(m: FilterGradMethod | undefined): void {
  FILTER_GRAD_METHOD = m;
}

/**
 * Which layout costs less, from two measured rates on this kind of machine: ≈2 ns per float written by a
 * JavaScript copy loop, ≈0.057 ns per multiply-add in XNNPACK (35 GFLOP/s). "planes" writes about x once but
 * multiplies over the padded HQ × WQ grid; "im2col" writes kh·kw copies of x and multiplies over the outputs only.
 * Small grids (4×6 outputs: the grid is 46% padding) favour im2col, large ones planes.
 */
export function filterGradMethod(c: Conv2DInfo): FilterGradMethod {
  const {
    outHeight: Ho,
    outWidth: Wo,
    outChannels: CO,
    filterHeight: KH,
    filterWidth: KW,
    strideHeight: SH,
    strideWidth: SW,
  } = c;
  const LQ = (Ho + Math.floor((KH - 1) / SH)) * (Wo + Math.floor((KW - 1) / SW));
  const phases = Math.min(SH, KH) * Math.min(SW, KW);
  const planes = 2 * phases * LQ + 0.057 * KH * KW * CO * LQ;
  const im2col = 2 * KH * KW * Ho * Wo + 0.057 * KH * KW * CO * Ho * Wo;
  return im2col < planes ? "im2col" : "planes";
}

/**
 * im2col: Pᵀ[(kh, kw, ci), p] = x at output position p's tap (kh, kw), for a group of images; then one matmul
 * Pᵀ · dY[p, co] gives the group's whole dW, already in the filter's [kh, kw, ci, co] layout, and dY is read in place.
 */
function filterGradIm2col(c: Conv2DInfo, x: TensorInfo, dy: TensorInfo, backend: WasmBackendLike): TensorInfo {
  const heap = wasmInternals(backend);
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: CI, outHeight: Ho, outWidth: Wo, outChannels: CO } = c;
  const { filterHeight: KH, filterWidth: KW, strideHeight: SH, strideWidth: SW } = c;
  const pt = c.padInfo.top;
  const pl = c.padInfo.left;
  const P = Ho * Wo; // output positions per image
  const rowsPT = KH * KW * CI;
  const G = Math.max(1, Math.min(N, Math.floor(FILTER_GRAD_GROUP_FLOATS / (P * (rowsPT + CO)))));
  const dWFloats = rowsPT * CO;

  const dW = backend.makeOutput(c.filterShape, "float32");
  const colsAt = heap.alloc(rowsPT * G * P);
  const partAt = N > G ? heap.alloc(dWFloats) : 0;
  const dWAt = heap.offsetOf(dW);
  const dyAt = heap.offsetOf(dy);
  for (let n0 = 0; n0 < N; n0 += G) {
    // Fresh views every group: XNNPACK allocates inside matMul, which can grow (and so detach) the wasm memory.
    const xs = heap.f32(heap.offsetOf(x), N * H * W * CI);
    const cols = heap.f32(colsAt, rowsPT * G * P);
    const count = Math.min(G, N - n0);
    const K = count * P; // this group's positions: the shared dimension of its matmul
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        const rowAt = (kh * KW + kw) * CI * K;
        for (let n = n0; n < n0 + count; n++) {
          for (let i = 0; i < Ho; i++) {
            const ih = i * SH + kh - pt;
            let p = (n - n0) * P + i * Wo;
            if (ih < 0 || ih >= H) {
              for (let ci = 0; ci < CI; ci++) cols.fill(0, rowAt + ci * K + p, rowAt + ci * K + p + Wo);
              continue;
            }
            for (let j = 0; j < Wo; j++, p++) {
              const iw = j * SW + kw - pl;
              let dst = rowAt + p;
              if (iw < 0 || iw >= W) {
                for (let ci = 0; ci < CI; ci++, dst += K) cols[dst] = 0;
                continue;
              }
              const src = ((n * H + ih) * W + iw) * CI;
              for (let ci = 0; ci < CI; ci++, dst += K) cols[dst] = xs[src + ci];
            }
          }
        }
      }
    }
    const A = heap.view(colsAt, [1, rowsPT, K]);
    const B = heap.view(dyAt + 4 * n0 * P * CO, [1, K, CO]);
    const out = heap.view(n0 === 0 ? dWAt : partAt, [1, rowsPT, CO]);
    heap.matMul(A, B, out);
    [A, B, out].forEach(heap.release);
    if (n0 > 0) addInto(heap, dWAt, partAt, dWFloats);
  }
  heap.free(colsAt);
  if (partAt) heap.free(partAt);
  return dW;
}

/** acc[0, n) += part[0, n) (byte offsets in the heap). */
function addInto(heap: WasmHeap, accAt: number, partAt: number, n: number): void {
  const acc = heap.f32(accAt, n);
  const part = heap.f32(partAt, n);
  for (let k = 0; k < n; k++) acc[k] += part[k];
}

/** Phase planes: see the module comment. */
function filterGradPlanes(c: Conv2DInfo, x: TensorInfo, dy: TensorInfo, backend: WasmBackendLike): TensorInfo {
  const heap = wasmInternals(backend);
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: CI, outHeight: Ho, outWidth: Wo, outChannels: CO } = c;
  const { filterHeight: KH, filterWidth: KW, strideHeight: SH, strideWidth: SW } = c;
  const pt = c.padInfo.top;
  const pl = c.padInfo.left;

  // Phase plane (a, b) holds x[n, SH·i + a − pt, SW·j + b − pl, ci] at [ci][n][i][j], i < HQ, j < WQ (0 outside x).
  // Tap (kh, kw) reads plane (kh % SH, kw % SW) shifted by (⌊kh/SH⌋, ⌊kw/SW⌋) rows/cols: with the grid HQ × WQ
  // that shift is a constant offset, and every output position (i < Ho, j < Wo) stays inside its image's grid.
  // Reads that run past an image (or into the next channel) meet zero rows of the dY grid, so (x being finite)
  // they add nothing.
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
  for (let n0 = 0; n0 < N; n0 += G) {
    // Fresh views every group: XNNPACK allocates inside matMul, which can grow (and so detach) the wasm memory.
    const xs = heap.f32(heap.offsetOf(x), N * H * W * CI);
    const dys = heap.f32(heap.offsetOf(dy), N * Ho * Wo * CO);
    const planes = heap.f32(planesAt, planeFloats);
    const grid = heap.f32(gridAt, G * LQ * CO);
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
      for (let i = 0; i < Ho; i++)
        grid.set(dys.subarray((n * Ho + i) * Wo * CO, (n * Ho + i + 1) * Wo * CO), ((n - n0) * HQ + i) * WQ * CO);

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
    if (n0 > 0) addInto(heap, dWAt, partAt, dWFloats);
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
  const {
    inHeight: H,
    inWidth: W,
    outHeight: Ho,
    outWidth: Wo,
    filterHeight: KH,
    filterWidth: KW,
    strideHeight: SH,
    strideWidth: SW,
  } = c;
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
        ph,
        pw,
        rows: r.n,
        cols: q.n,
        kh0: r.k0,
        kw0: q.k0,
        th: r.t,
        tw: q.t,
        pad: [
          [0, 0],
          [r.lo, r.hi],
          [q.lo, q.hi],
          [0, 0],
        ],
        convRows: r.conv,
        convCols: q.conv,
        skipRows: r.skip,
        skipCols: q.skip,
      });
    }
  }
  return phases;
}

/**
 * Conv2DBackpropInput for the wasm backend: inputs {dy, filter}, attrs {strides, pad, dataFormat, dimRoundingMode,
 * inputShape}. `fallback` (the backend's own kernel) handles NCHW.
 */
export function makeConv2dBackpropInputWasm(fallback: () => KernelFunc | undefined): KernelFunc {
  return ((args: KernelArgs): TensorInfo => {
    const { dy, filter } = args.inputs;
    const attrs = args.attrs ?? {};
    if (((attrs.dataFormat as string | undefined) ?? "NHWC") !== "NHWC") {
      const stock = fallback();
      if (!stock)
        throw new Error("Conv2DBackpropInput (project kernel): NCHW needs the stock wasm kernel, which is missing");
      return stock(args as Parameters<KernelFunc>[0]) as TensorInfo;
    }
    const c = convInfo("Conv2DBackpropInput", attrs.inputShape as number[], filter.shape, attrs);
    const phases = inputGradPhases(c);
    const backend = args.backend as WasmBackendLike;
    const heap = wasmInternals(backend);
    const conv2d = tf.getKernel("Conv2D", "wasm").kernelFunc;
    const {
      batchSize: N,
      inHeight: H,
      inWidth: W,
      inChannels: CI,
      outChannels: CO,
      filterWidth: KW,
      strideHeight: SH,
      strideWidth: SW,
    } = c;
    const p0 = phases[0];
    // Stride 1 with nothing to crop: the one convolution is dx itself.
    const single =
      phases.length === 1 && p0.skipRows === 0 && p0.skipCols === 0 && p0.convRows === H && p0.convCols === W;
    const dx = single ? null : backend.makeOutput(c.inShape, "float32");
    for (const p of phases) {
      if (p.th === 0 || p.tw === 0) {
        // No tap lands on this phase (stride > kernel): its rows/cols of dx are zero.
        interleave(heap.all(), null, heap.offsetOf(dx!) / 4, p, N, H, W, CI, SH, SW);
        continue;
      }
      // Sub-kernel g[a, b, co, ci] = W[kh0 + SH·(th−1−a), kw0 + SW·(tw−1−b), ci, co]: flipped taps, channels swapped.
      const g = backend.makeOutput([p.th, p.tw, CO, CI], "float32");
      const gs = heap.f32(heap.offsetOf(g), p.th * p.tw * CO * CI);
      const ws = heap.f32(
        heap.offsetOf(filter),
        filter.shape.reduce((s, d) => s * d, 1),
      );
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
      interleave(heap.all(), heap.offsetOf(out) / 4, heap.offsetOf(dx!) / 4, p, N, H, W, CI, SH, SW);
      backend.disposeData(out.dataId);
    }
    return dx!;
  }) as unknown as KernelFunc;
}

/**
 * Copy one phase's convolution output [N, convRows, convCols, CI] into dx at rows SH·u + ph, cols SW·v + pw
 * (zeros when srcAt is null). Offsets are float indices into `heap`, one view of the whole wasm memory, so each
 * pixel's CI floats move with copyWithin (a native memmove: 2–5× faster than a JavaScript loop from 16 floats).
 */
function interleave(
  heap: Float32Array,
  srcAt: number | null,
  dxAt: number,
  p: Phase,
  N: number,
  H: number,
  W: number,
  CI: number,
  SH: number,
  SW: number,
): void {
  for (let n = 0; n < N; n++) {
    for (let u = 0; u < p.rows; u++) {
      let d = dxAt + ((n * H + SH * u + p.ph) * W + p.pw) * CI;
      let s = srcAt === null ? 0 : srcAt + ((n * p.convRows + u + p.skipRows) * p.convCols + p.skipCols) * CI;
      if (srcAt === null) for (let v = 0; v < p.cols; v++, d += SW * CI) heap.fill(0, d, d + CI);
      else if (SW === 1) heap.copyWithin(d, s, s + p.cols * CI);
      else if (CI >= 16) for (let v = 0; v < p.cols; v++, d += SW * CI, s += CI) heap.copyWithin(d, s, s + CI);
      else for (let v = 0; v < p.cols; v++, d += SW * CI) for (let ci = 0; ci < CI; ci++) heap[d + ci] = heap[s++];
    }
  }
}
