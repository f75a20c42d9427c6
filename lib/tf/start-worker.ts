/**
 * Start a worker thread that runs a module of this library: the compiled .js directly, or the TypeScript source
 * through tsx's CommonJS hook (Node 20 does not apply `--import tsx` to a worker's entry file), so the same code
 * works from dist/ (notebooks) and from source (tests, scripts run with `node --import tsx`).
 *
 *   const worker = startModuleWorker(__filename, { kind: "my-worker", ... });   // in the module itself
 */
import * as path from "node:path";
import { Worker } from "node:worker_threads";

export function startModuleWorker(file: string, workerData: unknown): Worker {
  if (path.extname(file) === ".ts") {
    const tsx = require.resolve("tsx/cjs");
    const code = `require(${JSON.stringify(tsx)}); require(${JSON.stringify(file)});`;
    return new Worker(code, { eval: true, workerData });
  }
  return new Worker(file, { workerData });
}
