/**
 * Direct access to the wasm backend's heap, for the project's kernels (lib/tf/conv-grad.ts).
 *
 * The wasm backend keeps every tensor in one WebAssembly memory and names it to its C++ side by an integer id.
 * A kernel written here can therefore (1) read and write tensors in place as Float32Array views, with no copy
 * between JavaScript and wasm, and (2) call the backend's own compiled matrix multiply (XNNPACK, SIMD) on any
 * slice of that memory, by registering a temporary id for the slice (a "view"). Both rely on internals of
 * @tensorflow/tfjs-backend-wasm 4.22 (`wasm.tfjs.registerTensor`, the `BatchMatMul` export); `wasmInternals`
 * checks they exist and says so when they do not.
 *
 *   const heap = wasmInternals(backend);                 // inside a kernelFunc registered for "wasm"
 *   const a = heap.view(offsetBytes, [1, rows, k]);      // a matrix living anywhere in the heap
 *   heap.matMul(a, b, out);                              // out = a · b, XNNPACK fully-connected path
 *   heap.release(a);
 */
import type { TensorInfo } from "@tensorflow/tfjs";

/** The parts of tfjs-backend-wasm's BackendWasm this project uses (not all are in its public typings). */
export interface WasmBackendLike {
  wasm: {
    HEAPU8: Uint8Array;
    _malloc(bytes: number): number;
    _free(ptr: number): void;
    cwrap(name: string, ret: null, args: string[]): (...args: unknown[]) => void;
    tfjs: { registerTensor(id: number, size: number, offset: number): void; disposeData(id: number): void };
  };
  dataIdMap: { get(dataId: object): { id: number; memoryOffset: number } };
  makeOutput(shape: number[], dtype: "float32"): TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
}

/** A matrix (or batch of matrices) somewhere in the wasm heap, registered under its own id. */
export interface HeapView {
  id: number;
  /** Byte offset in the heap. */
  offset: number;
  shape: number[];
}

export interface WasmHeap {
  /** A fresh Float32Array over `length` floats at byte `offset` (fetch it again after anything may allocate). */
  f32(offset: number, length: number): Float32Array;
  /** The whole heap as floats (index = byte offset / 4), for copyWithin between tensors. */
  all(): Float32Array;
  /** Byte offset of a tensor's data. */
  offsetOf(t: TensorInfo): number;
  /** Register `shape` floats at byte `offset` so the C++ side can read or write them. */
  view(offset: number, shape: number[]): HeapView;
  release(v: HeapView): void;
  /** Scratch memory: byte offset of `floats` floats; give it back with `free`. */
  alloc(floats: number): number;
  free(offset: number): void;
  /** out[1, m, n] = a[1, m, k] · b[1, k, n]: XNNPACK's fully-connected operator, cached on b's id. */
  matMul(a: HeapView, b: HeapView, out: HeapView): void;
  /** out = a + b, elementwise, same shapes (out may be a itself). */
  add(a: HeapView, b: HeapView, out: HeapView): void;
}

const cache = new WeakMap<object, WasmHeap>();

export function wasmInternals(backend: unknown): WasmHeap {
  const b = backend as WasmBackendLike & { dataIdNextNumber?: number };
  const hit = cache.get(b);
  if (hit) return hit;
  if (
    typeof b?.wasm?.tfjs?.registerTensor !== "function" ||
    typeof b.wasm.cwrap !== "function" ||
    typeof b.dataIdNextNumber !== "number"
  )
    throw new Error(
      "lib/tf/wasm-heap: this tfjs-backend-wasm does not expose the internals these kernels need (written for 4.22)",
    );
  const rawMatMul = b.wasm.cwrap("BatchMatMul", null, [
    "number",
    "array",
    "number",
    "number",
    "array",
    "number",
    "number",
    "number",
    "number",
  ]);
  const rawAdd = b.wasm.cwrap("Add", null, [
    "number",
    "array",
    "number",
    "number",
    "array",
    "number",
    "number",
    "number",
  ]);
  const shapeBytes = (s: number[]) => new Uint8Array(new Int32Array(s).buffer);
  const size = (s: number[]) => s.reduce((p, d) => p * d, 1);
  const heap: WasmHeap = {
    f32: (offset, length) => new Float32Array(b.wasm.HEAPU8.buffer, offset, length),
    all: () => new Float32Array(b.wasm.HEAPU8.buffer),
    offsetOf: (t) => b.dataIdMap.get(t.dataId).memoryOffset,
    view(offset, shape) {
      // Ids come from the backend's own counter, so they never collide with a tensor's.
      const id = b.dataIdNextNumber!++;
      b.wasm.tfjs.registerTensor(id, size(shape), offset);
      return { id, offset, shape };
    },
    // disposeData on the C++ side also drops any XNNPACK operator cached on this id; it frees no memory.
    release: (v) => b.wasm.tfjs.disposeData(v.id),
    alloc: (floats) => b.wasm._malloc(floats * 4) >>> 0,
    free: (offset) => b.wasm._free(offset),
    matMul(a, bm, out) {
      const [, m, k] = a.shape;
      const [, k2, n] = bm.shape;
      if (a.shape[0] !== 1 || bm.shape[0] !== 1 || k !== k2 || out.shape[1] !== m || out.shape[2] !== n)
        throw new Error(`wasm-heap matMul: shapes [${a.shape}] · [${bm.shape}] -> [${out.shape}] do not fit`);
      // Not transposed, batch 1: the only case the backend sends to XNNPACK (others take a slow scalar loop).
      rawMatMul(a.id, shapeBytes(a.shape), 3, bm.id, shapeBytes(bm.shape), 3, 0, 0, out.id);
    },
    add(a, bv, out) {
      if (size(a.shape) !== size(bv.shape) || size(a.shape) !== size(out.shape))
        throw new Error(`wasm-heap add: sizes of [${a.shape}], [${bv.shape}], [${out.shape}] differ`);
      const shape = shapeBytes([size(a.shape)]);
      rawAdd(a.id, shape, 1, bv.id, shape, 1, 0 /* float32 */, out.id);
    },
  };
  cache.set(b, heap);
  return heap;
}
