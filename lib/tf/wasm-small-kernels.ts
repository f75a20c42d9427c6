/**
 * Cheap wins for training on the wasm backend, found by profiling (bench/profile.ts):
 *
 * - Identity: the stock kernel copies its input. The engine runs it on every tensor a gradient saves (≈40 per
 *   training step of the autoencoder, 2–3% of the step); sharing the data (as the cpu backend and wasm's own
 *   Reshape do) costs nothing, and no kernel writes into its inputs.
 * - Cast to the dtype a tensor already has (every ReLU gradient casts step(x) to float32): the stock kernel
 *   copies too; here it shares. Real conversions go to the stock kernel.
 * - Sum over leading axes (a bias gradient: [N, H, W, C] → [C]): the stock kernel first transposes the reduced
 *   axes to the end (a full copy, then a strided sum), ≈8% of the step. Here the rows are added pairwise with the
 *   backend's own SIMD Add (the first half plus the second half, repeatedly): no transpose, ⌈log2 rows⌉ calls,
 *   and pairwise summation keeps the float32 rounding error small. Other reductions go to the stock kernel.
 *
 *   makeSumWasm(() => stockKernelFunc)   // a kernelFunc for Sum on "wasm"
 */
import type { KernelFunc, TensorInfo } from "@tensorflow/tfjs";
import type { KernelArgs } from "./conv-grad";
import { wasmInternals, type WasmBackendLike } from "./wasm-heap";

/** Identity that shares its input's data (reference-counted) instead of copying it. */
export function identityWasm(args: KernelArgs): TensorInfo {
  const { x } = args.inputs;
  (args.backend as { incRef(dataId: object): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** Cast for the wasm backend: same-dtype casts share the data, the rest go to `fallback` (the stock kernel). */
export function makeCastWasm(fallback: () => KernelFunc | undefined): KernelFunc {
  return ((args: KernelArgs): TensorInfo => {
    const { x } = args.inputs;
    if (args.attrs?.dtype === x.dtype && x.dtype !== "string") return identityWasm(args);
    const stock = fallback();
    if (!stock) throw new Error("Cast (project kernel): no stock wasm Cast to fall back to");
    return stock(args as Parameters<KernelFunc>[0]) as TensorInfo;
  }) as unknown as KernelFunc;
}

/** How many leading axes `axis` reduces when it is exactly 0..k−1 (k < rank), else 0. */
export function leadingAxes(axis: number | number[] | undefined, rank: number): number {
  const list = axis === undefined ? [...Array(rank).keys()] : Array.isArray(axis) ? axis : [axis];
  const axes = [...new Set(list.map((a) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b);
  if (axes.length === 0 || axes.length >= rank) return 0;
  return axes.every((a, i) => a === i) ? axes.length : 0;
}

/** Sum for the wasm backend: leading-axes float32 reductions here, the rest to `fallback` (the stock kernel). */
export function makeSumWasm(fallback: () => KernelFunc | undefined): KernelFunc {
  return ((args: KernelArgs): TensorInfo => {
    const { x } = args.inputs;
    const attrs = args.attrs ?? {};
    const k = x.dtype === "float32" ? leadingAxes(attrs.axis as number | number[] | undefined, x.shape.length) : 0;
    if (k === 0) {
      const stock = fallback();
      if (!stock) throw new Error("Sum (project kernel): no stock wasm Sum to fall back to");
      return stock(args as Parameters<KernelFunc>[0]) as TensorInfo;
    }
    const backend = args.backend as WasmBackendLike;
    const heap = wasmInternals(backend);
    const rows = x.shape.slice(0, k).reduce((p, d) => p * d, 1);
    const rest = x.shape.slice(k);
    const cols = rest.reduce((p, d) => p * d, 1);
    const outShape = attrs.keepDims ? [...x.shape.slice(0, k).map(() => 1), ...rest] : rest;
    const out = backend.makeOutput(outShape, "float32");
    const xAt = heap.offsetOf(x);
    const outAt = heap.offsetOf(out);
    if (rows === 1) {
      heap.f32(outAt, cols).set(heap.f32(xAt, cols));
      return out;
    }
    // Rows [0, h) += rows [n − h, n): with n odd the middle row stays where it is and joins the next round.
    const half = (from: number, to: number, n: number) => {
      const h = Math.floor(n / 2);
      const a = heap.view(from, [h * cols]);
      const b = heap.view(from + 4 * (n - h) * cols, [h * cols]);
      const o = heap.view(to, [h * cols]);
      heap.add(a, b, o);
      [a, b, o].forEach(heap.release);
      return n - h;
    };
    const scratch = heap.alloc(Math.ceil(rows / 2) * cols);
    let n = rows;
    if (n % 2 === 1)
      heap.f32(scratch + 4 * Math.floor(n / 2) * cols, cols).set(heap.f32(xAt + 4 * Math.floor(n / 2) * cols, cols));
    n = half(xAt, scratch, n); // the input is read, never written
    while (n > 1) n = half(scratch, scratch, n);
    heap.f32(outAt, cols).set(heap.f32(scratch, cols));
    heap.free(scratch);
    return out;
  }) as unknown as KernelFunc;
}

/**
 * Tile for the wasm backend (float32): the stock kernel walks every output element through index arithmetic, and
 * BatchNorm's gradient tiles per-channel vectors to whole activations six times a step: 36 % of a training step of the
 * BN + LeakyReLU autoencoder (bench/profile.ts). Here each axis with reps > 1 is tiled by block copies (`set` plus
 * doubling `copyWithin`, both memcpy), from the last axis to the first. Other dtypes go to the stock kernel.
 */
export function tileFloat32(src: Float32Array, shape: readonly number[], reps: readonly number[]): Float32Array {
  if (reps.length !== shape.length)
    throw new Error(`Tile: reps has ${reps.length} entries for a rank-${shape.length} tensor`);
  let data = src;
  const dims = [...shape];
  for (let a = dims.length - 1; a >= 0; a--) {
    const r = reps[a];
    if (r === 1) continue;
    const outer = dims.slice(0, a).reduce((p, d) => p * d, 1);
    const block = dims.slice(a).reduce((p, d) => p * d, 1);
    const next = new Float32Array(outer * block * r);
    for (let o = 0; o < outer; o++) {
      const base = o * block * r;
      next.set(data.subarray(o * block, (o + 1) * block), base);
      for (let filled = block; filled < block * r; ) {
        const n = Math.min(filled, block * r - filled);
        next.copyWithin(base + filled, base, base + n);
        filled += n;
      }
    }
    data = next;
    dims[a] *= r;
  }
  return data;
}

export function makeTileWasm(fallback: () => KernelFunc | undefined): KernelFunc {
  return ((args: KernelArgs): TensorInfo => {
    const { x } = args.inputs;
    const reps = (args.attrs?.reps ?? []) as number[];
    if (x.dtype !== "float32" || reps.length !== x.shape.length) {
      const stock = fallback();
      if (!stock) throw new Error("Tile (project kernel): no stock wasm Tile to fall back to");
      return stock(args as Parameters<KernelFunc>[0]) as TensorInfo;
    }
    const backend = args.backend as WasmBackendLike;
    const heap = wasmInternals(backend);
    const size = x.shape.reduce((p, d) => p * d, 1);
    const outShape = x.shape.map((d, i) => d * reps[i]);
    const out = backend.makeOutput(outShape, "float32");
    const tiled = tileFloat32(Float32Array.from(heap.f32(heap.offsetOf(x), size)), x.shape, reps);
    heap.f32(heap.offsetOf(out), tiled.length).set(tiled); // views taken after makeOutput: the heap may have grown
    return out;
  }) as unknown as KernelFunc;
}
