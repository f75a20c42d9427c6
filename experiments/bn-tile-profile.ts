/**
 * Where a training step of the BN + LeakyReLU autoencoder goes on wasm, with tfjs's stock `Tile` kernel and with the
 * project's block-copy one (lib/tf/wasm-small-kernels.ts), and the plain ReLU net beside them (README, Performance).
 * One thread, 32×48×3, 32/64/128, batch 64, CPU clock; writes nothing.
 *
 *   node --import tsx experiments/bn-tile-profile.ts > experiments/bn-tile-profile.log
 */
import * as tf from "@tensorflow/tfjs";
import { buildAutoencoder, DEFAULT_MODEL } from "../lib/detector/model";
import { initBackend } from "../lib/tf/backend";
import { stockKernel } from "../lib/tf/kernels";
import { makeTileWasm } from "../lib/tf/wasm-small-kernels";
import { formatProfile, profileTrainStep } from "../lib/tf/profile";

async function profile(label: string, blocks: "plain" | "bn-leaky") {
  const model = buildAutoencoder({ ...DEFAULT_MODEL, blocks });
  const x = tf.randomUniform([64, 32, 48, 3]);
  const p = await profileTrainStep(model, x, { steps: 2, clock: "cpu" });
  const tile = p.rows.filter((r) => r.kernel === "Tile").reduce((s, r) => s + r.ms, 0);
  console.log(
    `\n=== ${label}: step ${p.stepMs.toFixed(0)} ms (${((64 * 1000) / p.stepMs).toFixed(0)} img/s), ` +
      `Tile ${tile.toFixed(0)} ms = ${((100 * tile) / p.kernelMs).toFixed(1)} % of kernel time`,
  );
  console.log(formatProfile(p).split("\n").slice(0, 8).join("\n"));
  x.dispose();
  model.dispose();
}

(async () => {
  await initBackend("wasm");
  await profile("plain ReLU net, project kernels", "plain");
  await profile("BN + LeakyReLU, project kernels (block-copy Tile)", "bn-leaky");
  const stock = stockKernel("Tile", "wasm");
  if (!stock) throw new Error("no stock wasm Tile kernel");
  tf.unregisterKernel("Tile", "wasm");
  tf.registerKernel(stock);
  // the running backend never ran the stock kernel's setup while the project's was registered (it binds the C++ op)
  stock.setupFunc?.((tf.engine() as unknown as { registry: Record<string, object> }).registry.wasm as never);
  await profile("BN + LeakyReLU, tfjs's stock Tile", "bn-leaky");
  tf.unregisterKernel("Tile", "wasm");
  tf.registerKernel({ kernelName: "Tile", backendName: "wasm", kernelFunc: makeTileWasm(() => stock.kernelFunc) });
})();
