/**
 * Pick the fastest TensorFlow.js backend this machine has, and make it able to train conv nets.
 *
 * Order: `tensorflow` (native libtensorflow via the optional `@tensorflow/tfjs-node`, when it installed),
 * then `wasm` (`@tensorflow/tfjs-backend-wasm`, XNNPACK + SIMD, single-threaded in Node), then `cpu` (plain JS).
 * The environment variable `TF_BACKEND` (tensorflow | wasm | cpu) overrides the argument. A preference that
 * cannot start falls back down that order, and the log line says why. The project's own kernels
 * (lib/tf/kernels.ts: the convolution gradients the wasm backend lacks or runs slowly) are registered first.
 * Calling it again is cheap: it returns the backend already chosen, and logs each choice only once.
 *
 *   import { initBackend } from "../dist/lib/tf";
 *   const name = await initBackend("wasm", { log: console.log });   // "wasm", prints "tfjs backend: wasm (...)"
 */
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { registerProjectKernels } from "./kernels";

export type BackendName = "tensorflow" | "wasm" | "cpu";
export const BACKEND_ORDER: readonly BackendName[] = ["tensorflow", "wasm", "cpu"];

export interface InitOptions {
  /** Called once per backend chosen, with a one-line description. */
  log?: (line: string) => void;
}

let wasmLoaded = false;
let nodeTried = false;
let nodeLoaded = false;
const logged = new Set<string>();
let current: { key: string; name: BackendName } | null = null;

/** The backend name named by `TF_BACKEND`, or undefined when unset; a clear error for any other value. */
export function backendFromEnv(env: NodeJS.ProcessEnv = process.env): BackendName | undefined {
  const raw = env.TF_BACKEND?.trim().toLowerCase();
  if (!raw) return undefined;
  if (!(BACKEND_ORDER as readonly string[]).includes(raw))
    throw new Error(`TF_BACKEND must be one of ${BACKEND_ORDER.join(", ")}; got "${env.TF_BACKEND}"`);
  return raw as BackendName;
}

/** Try to load `@tensorflow/tfjs-node` (an optional dependency that registers the `tensorflow` backend). */
function loadNode(): boolean {
  if (!nodeTried) {
    nodeTried = true;
    try {
      require("@tensorflow/tfjs-node");
      nodeLoaded = true;
    } catch {
      nodeLoaded = false;
    }
  }
  return nodeLoaded && tf.findBackendFactory("tensorflow") != null;
}

/** Load the wasm backend and point it at its .wasm files (they sit beside the package's main file). */
function loadWasm(): boolean {
  if (!wasmLoaded) {
    try {
      const wasm = require("@tensorflow/tfjs-backend-wasm") as typeof import("@tensorflow/tfjs-backend-wasm");
      wasm.setWasmPaths(`${path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm"))}/`);
      wasmLoaded = true;
    } catch {
      return false;
    }
  }
  return tf.findBackendFactory("wasm") != null;
}

async function trySet(name: BackendName): Promise<string | null> {
  if (name === "tensorflow" && !loadNode()) return "@tensorflow/tfjs-node is not installed";
  if (name === "wasm" && !loadWasm()) return "@tensorflow/tfjs-backend-wasm could not be loaded";
  try {
    const ok = await tf.setBackend(name);
    await tf.ready();
    if (!ok || tf.getBackend() !== name) return `tf.setBackend("${name}") failed`;
    return null;
  } catch (e) {
    return `tf.setBackend("${name}") threw: ${(e as Error).message}`;
  }
}

/**
 * Choose and start a backend (see the module comment). Returns its name.
 * `preferred` is where the search starts; `TF_BACKEND` replaces it.
 */
export async function initBackend(preferred?: BackendName, options: InitOptions = {}): Promise<BackendName> {
  if (preferred !== undefined && !BACKEND_ORDER.includes(preferred))
    throw new Error(`initBackend: backend must be one of ${BACKEND_ORDER.join(", ")}; got "${preferred}"`);
  const want = backendFromEnv() ?? preferred ?? "tensorflow";
  const key = want;
  if (current?.key === key && tf.getBackend() === current.name) return current.name;

  // Load the wasm package before registering: importing it registers its own kernels, which would replace ours.
  loadWasm();
  registerProjectKernels();
  const reasons: string[] = [];
  for (const name of BACKEND_ORDER.slice(BACKEND_ORDER.indexOf(want))) {
    const why = await trySet(name);
    if (why === null) {
      current = { key, name };
      const line = await describe(name, reasons);
      if (!logged.has(line)) {
        logged.add(line);
        options.log?.(line);
      }
      return name;
    }
    reasons.push(`${name}: ${why}`);
  }
  throw new Error(`initBackend: no TensorFlow.js backend could start (${reasons.join("; ")})`);
}

async function describe(name: BackendName, skipped: string[]): Promise<string> {
  const detail =
    name === "wasm"
      ? `XNNPACK, SIMD ${(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")) ? "on" : "off"}, 1 thread`
      : name === "tensorflow"
        ? "native libtensorflow"
        : "pure JavaScript";
  return `tfjs backend: ${name} (${detail})${skipped.length ? `; skipped ${skipped.join("; ")}` : ""}`;
}
