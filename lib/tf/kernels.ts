/**
 * The project's own TensorFlow.js kernels, and their registration.
 *
 * The wasm backend cannot train a conv net out of the box (no `Conv2DBackpropFilter`) and computes
 * `Conv2DBackpropInput` — also the forward pass of every Conv2DTranspose layer — with a slow scalar loop. The
 * cpu backend's `Conv2DBackpropFilter` reads every element through `TensorBuffer.get` (≈96% of a training step).
 * `registerProjectKernels()` installs faster versions (lib/tf/conv-grad.ts and lib/tf/wasm-small-kernels.ts for
 * wasm, a plain loop here for cpu),
 * keeping tfjs's originals so `stockKernel` can still reach them and `unregisterProjectKernels()` can put them back.
 * `initBackend` (lib/tf/backend.ts) calls it; call it yourself only when you pick backends by hand.
 *
 *   import { registerProjectKernels } from "../dist/lib/tf/kernels";
 *   registerProjectKernels();                // idempotent
 *   await tf.setBackend("wasm");             // conv models now train on wasm
 */
import * as tf from "@tensorflow/tfjs";
import type { KernelConfig, KernelFunc, TensorInfo } from "@tensorflow/tfjs";
import { conv2dBackpropFilterWasm, convInfo, makeConv2dBackpropInputWasm, type KernelArgs } from "./conv-grad";
import { identityWasm, makeCastWasm, makeSumWasm, makeTileWasm } from "./wasm-small-kernels";
import { wasmInternals, type WasmBackendLike } from "./wasm-heap";

interface CpuBackendLike {
  data: { get(dataId: object): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: "float32", values: Float32Array): TensorInfo;
}

/**
 * Conv2DBackpropFilter as plain loops: dW[kh, kw, ci, :] += x[ci] · dy[:] over every output position, a rank-1
 * update per tap on flat Float32Arrays (the accumulator, kh·kw·ci·co floats, stays in cache); zeros in x (ReLU
 * outputs, about half) are skipped. The project's kernel for the cpu backend, and on wasm the baseline that
 * `useBaselineKernels` installs (the minimum for wasm to train, for comparison).
 */
export function conv2dBackpropFilterLoop(args: KernelArgs): TensorInfo {
  const { x, dy } = args.inputs;
  const attrs = args.attrs ?? {};
  const c = convInfo("Conv2DBackpropFilter", x.shape, attrs.filterShape as number[], attrs);
  const onWasm = "wasm" in (args.backend as object);
  const heap = onWasm ? wasmInternals(args.backend) : null;
  const read = (t: TensorInfo) =>
    heap
      ? heap.f32(
          heap.offsetOf(t),
          t.shape.reduce((p, d) => p * d, 1),
        )
      : (args.backend as CpuBackendLike).data.get(t.dataId).values;
  const xs = read(x);
  const dys = read(dy);
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: CI, outHeight: Ho, outWidth: Wo, outChannels: CO } = c;
  const { filterHeight: KH, filterWidth: KW, strideHeight: SH, strideWidth: SW } = c;
  const pt = c.padInfo.top;
  const pl = c.padInfo.left;
  const dW = new Float32Array(KH * KW * CI * CO);
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < Ho; i++) {
      for (let j = 0; j < Wo; j++) {
        const d = ((n * Ho + i) * Wo + j) * CO;
        for (let kh = 0; kh < KH; kh++) {
          const ih = SH * i + kh - pt;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const iw = SW * j + kw - pl;
            if (iw < 0 || iw >= W) continue;
            const xo = ((n * H + ih) * W + iw) * CI;
            let wo = (kh * KW + kw) * CI * CO;
            for (let ci = 0; ci < CI; ci++, wo += CO) {
              const xv = xs[xo + ci];
              if (xv === 0) continue;
              for (let co = 0; co < CO; co++) dW[wo + co] += xv * dys[d + co];
            }
          }
        }
      }
    }
  }
  if (!heap) return (args.backend as CpuBackendLike).makeTensorInfo(c.filterShape, "float32", dW);
  const out = (args.backend as WasmBackendLike).makeOutput(c.filterShape, "float32");
  heap.f32(heap.offsetOf(out), dW.length).set(dW);
  return out;
}

const stock = new Map<string, KernelConfig | undefined>();
const key = (kernelName: string, backendName: string) => `${backendName}/${kernelName}`;
const setUp = new WeakMap<KernelConfig, WeakSet<object>>();

/** tfjs's own kernel that a project kernel replaced (undefined where tfjs had none, e.g. wasm Conv2DBackpropFilter). */
export function stockKernel(kernelName: string, backendName: string): KernelConfig | undefined {
  return stock.has(key(kernelName, backendName))
    ? stock.get(key(kernelName, backendName))
    : tryGetKernel(kernelName, backendName);
}

function tryGetKernel(kernelName: string, backendName: string): KernelConfig | undefined {
  return tf.getKernelsForBackend(backendName).find((k) => k.kernelName === kernelName);
}

/**
 * The stock kernel a project kernel replaced, ready to call on the running backend. Its setup (the wasm kernels
 * bind their C++ function there) runs at most once per backend: the engine only set up the kernels registered
 * when the backend started, and ours had replaced this one by then.
 */
function stockFunc(kernelName: string, backendName: string): () => KernelFunc | undefined {
  return () => {
    const k = stock.get(key(kernelName, backendName));
    if (!k) return undefined;
    const backend = tf.backend();
    const done = setUp.get(k) ?? new WeakSet<object>();
    setUp.set(k, done);
    if (k.setupFunc && !done.has(backend)) {
      k.setupFunc(backend);
      done.add(backend);
    }
    return k.kernelFunc;
  };
}

/** Every kernel this project provides, by backend. */
export const PROJECT_KERNELS: readonly KernelConfig[] = [
  {
    kernelName: "Conv2DBackpropFilter",
    backendName: "wasm",
    kernelFunc: conv2dBackpropFilterWasm as unknown as KernelFunc,
  },
  {
    kernelName: "Conv2DBackpropInput",
    backendName: "wasm",
    kernelFunc: makeConv2dBackpropInputWasm(stockFunc("Conv2DBackpropInput", "wasm")),
  },
  { kernelName: "Sum", backendName: "wasm", kernelFunc: makeSumWasm(stockFunc("Sum", "wasm")) },
  { kernelName: "Tile", backendName: "wasm", kernelFunc: makeTileWasm(stockFunc("Tile", "wasm")) },
  { kernelName: "Identity", backendName: "wasm", kernelFunc: identityWasm as unknown as KernelFunc },
  { kernelName: "Cast", backendName: "wasm", kernelFunc: makeCastWasm(stockFunc("Cast", "wasm")) },
  {
    kernelName: "Conv2DBackpropFilter",
    backendName: "cpu",
    kernelFunc: conv2dBackpropFilterLoop as unknown as KernelFunc,
  },
];

let registered = false;
let baseline = false;

/** Install the project kernels (replacing tfjs's where it has one). Idempotent. */
export function registerProjectKernels(): void {
  if (registered) return;
  if (baseline) tf.unregisterKernel("Conv2DBackpropFilter", "wasm");
  baseline = false;
  for (const k of PROJECT_KERNELS) {
    const id = key(k.kernelName, k.backendName);
    const existing = tryGetKernel(k.kernelName, k.backendName);
    if (!stock.has(id)) stock.set(id, existing);
    if (existing) tf.unregisterKernel(k.kernelName, k.backendName);
    tf.registerKernel(k);
  }
  registered = true;
}

/** Put tfjs's own kernels back (wasm is then again unable to train conv nets). */
export function unregisterProjectKernels(): void {
  if (!registered) return;
  for (const k of PROJECT_KERNELS) {
    tf.unregisterKernel(k.kernelName, k.backendName);
    const original = stock.get(key(k.kernelName, k.backendName));
    if (!original) continue;
    tf.registerKernel(original);
    // A backend that started while ours was registered never ran this kernel's setup (wasm binds its C++ there).
    // (The engine's registry holds started backends only; tf.findBackend would start one.)
    const running = (tf.engine() as unknown as { registry: Record<string, object | undefined> }).registry[
      k.backendName
    ];
    if (running && original.setupFunc) original.setupFunc(running);
  }
  registered = false;
}

export function projectKernelsRegistered(): boolean {
  return registered;
}

/**
 * For comparisons only: tfjs's own kernels everywhere, plus the plain-loop Conv2DBackpropFilter on wasm (without
 * some Conv2DBackpropFilter wasm cannot train at all). `registerProjectKernels()` undoes it.
 */
export function useBaselineKernels(): void {
  unregisterProjectKernels();
  if (!baseline)
    tf.registerKernel({
      kernelName: "Conv2DBackpropFilter",
      backendName: "wasm",
      kernelFunc: conv2dBackpropFilterLoop as unknown as KernelFunc,
    });
  baseline = true;
}
