/**
 * Profile one training step of the project's autoencoder, kernel by kernel.
 *
 *   node --import tsx bench/profile.ts --backend wasm --height 32 --width 48 --channels 3 --filters 32,64,128 \
 *     --batch 64
 *   node --import tsx bench/profile.ts --backend cpu --preset small --steps 2
 *   (--clock wall|cpu: cpu, the default, counts only this process's CPU time, so other work on the machine does
 *   not inflate the numbers; --top N rows; --baseline: tfjs's own kernels plus a plain-loop Conv2DBackpropFilter,
 *   the minimum for wasm to train, to compare with)
 *
 * Prints a table of kernel → ms per step and share of the step (forward, backward and optimizer kernels apart).
 */
import * as tf from "@tensorflow/tfjs";
import { initBackend, type BackendName } from "../lib/tf/backend";
import { formatProfile, profileTrainStep, type Clock } from "../lib/tf/profile";
import { modelArgs } from "./model-args";
import { useBaselineKernels } from "../lib/tf/kernels";
import { buildAutoencoder, DEFAULT_MODEL } from "../lib/detector/model";

async function main() {
  const argv = process.argv.slice(2);
  const flag = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const cfg = modelArgs(argv, { ...DEFAULT_MODEL, batch: 64 });
  const steps = Number(flag("steps") ?? 3);
  const top = Number(flag("top") ?? 20);
  const backend = await initBackend((flag("backend") as BackendName | undefined) ?? "wasm", { log: console.log });
  if (argv.includes("--baseline")) {
    useBaselineKernels();
    console.log("kernels: baseline (tfjs's own, plus a plain-loop Conv2DBackpropFilter on wasm)");
  }
  console.log(
    `model ${cfg.height}×${cfg.width}×${cfg.channels}, filters ${cfg.filters.join("/")}, ` +
      `batch ${cfg.batch}, backend ${backend}`,
  );
  const model = buildAutoencoder(cfg);
  const x = tf.randomUniform([cfg.batch, cfg.height, cfg.width, cfg.channels], 0, 1, "float32", 7);
  const clock = (flag("clock") ?? "cpu") as Clock;
  if (clock !== "cpu" && clock !== "wall") throw new Error(`--clock must be cpu or wall, got "${clock}"`);
  const p = await profileTrainStep(model, x, { steps, clock });
  console.log(formatProfile(p, top));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
