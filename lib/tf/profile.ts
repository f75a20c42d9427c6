/**
 * Where the time of one training step goes, kernel by kernel (used by bench/profile.ts).
 *
 * The step is the one `model.trainOnBatch` runs (loss, gradients of the trainable weights, one optimizer update),
 * done in three `tf.profile` calls so every kernel can be labelled: forward, backward (gradient kernels), and
 * optimizer (the update ops). Each kernel is timed on the wall clock or on this process's CPU time (see `Clock`);
 * wasm and cpu run kernels synchronously, one at a time, so either is exact per kernel.
 *
 *   const model = buildAutoencoder(DEFAULT_MODEL);
 *   const p = await profileTrainStep(model, tf.randomUniform([64, 32, 48, 3]), { steps: 3, clock: "cpu" });
 *   console.log(formatProfile(p));
 */
import * as tf from "@tensorflow/tfjs";

export type Phase = "forward" | "backward" | "optimizer";

export interface KernelRow {
  kernel: string;
  phase: Phase;
  calls: number; // per step
  ms: number; // per step
}

export interface StepProfile {
  rows: KernelRow[];
  /** Sum of kernel times per step. */
  kernelMs: number;
  /** Time of the same step, unprofiled, per step (on the same clock). */
  stepMs: number;
  batch: number;
  clock: Clock;
}

/**
 * "wall": elapsed time. "cpu": CPU time of this process (user + system), which on a machine shared with other
 * work leaves out the time spent waiting for a core; for the single-threaded wasm and cpu backends it is what the
 * wall time would be on a quiet machine.
 */
export type Clock = "wall" | "cpu";

const now = (clock: Clock) => {
  if (clock === "wall") return performance.now();
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

/** Profile `steps` training steps of a compiled model on input x (target = x, as for an autoencoder). */
export async function profileTrainStep(
  model: tf.LayersModel,
  x: tf.Tensor,
  opts: { steps?: number; warmup?: number; clock?: Clock } = {},
): Promise<StepProfile> {
  const steps = opts.steps ?? 3;
  const warmup = opts.warmup ?? 2;
  const clock = opts.clock ?? "wall";
  if (!model.optimizer) throw new Error("profileTrainStep: the model must be compiled (it has no optimizer)");
  const optimizer = model.optimizer;
  const lossOf = () => tf.losses.meanSquaredError(x, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar;
  const step = () => {
    const { grads } = tf.variableGrads(lossOf);
    optimizer.applyGradients(grads);
    tf.dispose(grads);
  };
  for (let i = 0; i < warmup; i++) tf.tidy(step);

  const t0 = now(clock);
  for (let i = 0; i < steps; i++) tf.tidy(step);
  const stepMs = (now(clock) - t0) / steps;

  // The engine times each kernel with backend.time(f); swap in the chosen clock while profiling.
  const backend = tf.backend() as unknown as { time(f: () => void): Promise<{ kernelMs: number }> };
  const ownTime = Object.hasOwn(backend, "time") ? backend.time : undefined;
  backend.time = async (f: () => void) => {
    const start = now(clock);
    f();
    return { kernelMs: now(clock) - start };
  };

  const rows = new Map<string, KernelRow>();
  type Kernel = { name: string; kernelTimeMs: unknown };
  const add = (kernels: Kernel[], phase: Phase) => {
    for (const k of kernels) {
      if (k.name.endsWith("__op")) continue; // wrappers from tf.customGrad: their kernels are listed on their own
      const ms = typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : 0;
      const id = `${phase}/${k.name}`;
      const row = rows.get(id) ?? { kernel: k.name, phase, calls: 0, ms: 0 };
      row.calls += 1 / steps;
      row.ms += ms / steps;
      rows.set(id, row);
    }
  };
  // The engine's profile being recorded: its length when the loss is ready splits forward from backward kernels.
  const recorded = () =>
    (tf.engine().state as unknown as { activeProfile: { kernels: unknown[] } }).activeProfile.kernels.length;
  try {
    for (let i = 0; i < steps; i++) {
      let boundary = 0;
      let grads: tf.NamedTensorMap = {};
      const both = await tf.profile(() => {
        const r = tf.variableGrads(() => {
          const loss = lossOf();
          boundary = recorded();
          return loss;
        });
        r.value.dispose();
        grads = r.grads;
      });
      add(both.kernels.slice(0, boundary), "forward");
      add(both.kernels.slice(boundary), "backward");
      const upd = await tf.profile(() => optimizer.applyGradients(grads));
      add(upd.kernels, "optimizer");
      tf.dispose(grads);
    }
  } finally {
    if (ownTime) backend.time = ownTime;
    else delete (backend as { time?: unknown }).time;
  }
  const list = [...rows.values()].sort((a, b) => b.ms - a.ms);
  return { rows: list, kernelMs: list.reduce((s, r) => s + r.ms, 0), stepMs, batch: x.shape[0], clock };
}

/** A plain-text table: kernel, phase, calls, ms per step, share of the summed kernel time. */
export function formatProfile(p: StepProfile, top = 20): string {
  const lines = [
    `${"kernel".padEnd(24)} ${"phase".padEnd(9)} ${"calls".padStart(5)} ` +
      `${"ms/step".padStart(9)} ${"share".padStart(6)}`,
  ];
  for (const r of p.rows.slice(0, top))
    lines.push(
      `${r.kernel.padEnd(24)} ${r.phase.padEnd(9)} ${r.calls.toFixed(0).padStart(5)} ${r.ms.toFixed(2).padStart(9)} ` +
        `${((100 * r.ms) / p.kernelMs).toFixed(1).padStart(5)}%`,
    );
  const rest = p.rows.slice(top);
  if (rest.length) {
    const ms = rest.reduce((s, r) => s + r.ms, 0);
    lines.push(
      `${`(${rest.length} more)`.padEnd(24)} ${"".padEnd(9)} ${"".padStart(5)} ${ms.toFixed(2).padStart(9)} ` +
        `${((100 * ms) / p.kernelMs).toFixed(1).padStart(5)}%`,
    );
  }
  lines.push(
    `kernels ${p.kernelMs.toFixed(1)} ms/step; unprofiled step ${p.stepMs.toFixed(1)} ms = ` +
      `${((1000 * p.batch) / p.stepMs).toFixed(1)} img/s ` +
      `(batch ${p.batch}, ${p.clock === "cpu" ? "CPU time" : "wall time"})`,
  );
  return lines.join("\n");
}
