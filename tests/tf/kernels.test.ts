import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/tf/backend";
import {
  inputGradPhases,
  setFilterGradGroupFloats,
  setFilterGradMethod,
  FILTER_GRAD_GROUP_FLOATS,
} from "../../lib/tf/conv-grad";
import {
  registerProjectKernels,
  stockKernel,
  unregisterProjectKernels,
  projectKernelsRegistered,
  useBaselineKernels,
} from "../../lib/tf/kernels";
import { leadingAxes } from "../../lib/tf/wasm-small-kernels";
import { wasmInternals, type WasmBackendLike } from "../../lib/tf/wasm-heap";
import { buildAutoencoder, DEFAULT_MODEL } from "../../lib/detector/model";
import { modelArgs } from "../../bench/model-args";
import { formatProfile, profileTrainStep } from "../../lib/tf/profile";

// ---- independent references: textbook loops over NHWC arrays ----

type Pad = "same" | "valid";
interface Geometry {
  out: number;
  before: number;
}

/** TensorFlow's output size and leading pad along one axis. */
function axis(size: number, k: number, s: number, pad: Pad): Geometry {
  if (pad === "valid") return { out: Math.ceil((size - k + 1) / s), before: 0 };
  const out = Math.ceil(size / s);
  return { out, before: Math.floor(Math.max((out - 1) * s + k - size, 0) / 2) };
}

function refFilterGrad(
  x: Float32Array,
  xShape: number[],
  dy: Float32Array,
  k: number,
  co: number,
  s: number,
  pad: Pad,
): Float32Array {
  const [n, h, w, ci] = xShape;
  const r = axis(h, k, s, pad);
  const c = axis(w, k, s, pad);
  const dw = new Float64Array(k * k * ci * co);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < r.out; i++)
      for (let j = 0; j < c.out; j++)
        for (let kh = 0; kh < k; kh++)
          for (let kw = 0; kw < k; kw++) {
            const ih = i * s + kh - r.before;
            const iw = j * s + kw - c.before;
            if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
            for (let a = 0; a < ci; a++)
              for (let o = 0; o < co; o++)
                dw[((kh * k + kw) * ci + a) * co + o] +=
                  x[((b * h + ih) * w + iw) * ci + a] * dy[((b * r.out + i) * c.out + j) * co + o];
          }
  return Float32Array.from(dw);
}

function refInputGrad(
  dy: Float32Array,
  filter: Float32Array,
  xShape: number[],
  k: number,
  co: number,
  s: number,
  pad: Pad,
): Float32Array {
  const [n, h, w, ci] = xShape;
  const r = axis(h, k, s, pad);
  const c = axis(w, k, s, pad);
  const dx = new Float64Array(n * h * w * ci);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < r.out; i++)
      for (let j = 0; j < c.out; j++)
        for (let kh = 0; kh < k; kh++)
          for (let kw = 0; kw < k; kw++) {
            const ih = i * s + kh - r.before;
            const iw = j * s + kw - c.before;
            if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
            for (let a = 0; a < ci; a++)
              for (let o = 0; o < co; o++)
                dx[((b * h + ih) * w + iw) * ci + a] +=
                  filter[((kh * k + kw) * ci + a) * co + o] * dy[((b * r.out + i) * c.out + j) * co + o];
          }
  return Float32Array.from(dx);
}

/** Largest absolute difference relative to the largest reference magnitude. */
function relErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  assert.equal(got.length, want.length, "lengths differ");
  let diff = 0;
  let scale = 1e-12;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return diff / scale;
}

function rand(size: number, seed: number): Float32Array {
  let t = seed >>> 0;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    t = (t + 0x6d2b79f5) >>> 0;
    let z = Math.imul(t ^ (t >>> 15), 1 | t);
    z = (z + Math.imul(z ^ (z >>> 7), 61 | z)) ^ z;
    out[i] = ((z ^ (z >>> 14)) >>> 0) / 4294967296 - 0.5;
  }
  return out;
}

// [batch, height, width, inChannels, kernel, outChannels, stride, pad]
const CASES: [number, number, number, number, number, number, number, Pad][] = [
  [1, 7, 9, 3, 3, 5, 2, "same"],
  [2, 8, 8, 1, 3, 4, 1, "valid"],
  [3, 6, 7, 4, 3, 2, 2, "valid"],
  [2, 8, 12, 5, 3, 3, 1, "same"],
  [1, 5, 5, 3, 3, 1, 1, "same"],
  [2, 9, 11, 1, 3, 3, 2, "same"],
  [1, 5, 6, 2, 2, 3, 2, "same"],
  [2, 9, 9, 3, 1, 3, 2, "valid"],
  [1, 11, 7, 3, 5, 2, 2, "same"],
  [2, 4, 6, 6, 3, 7, 2, "same"],
  [2, 6, 8, 20, 3, 5, 2, "same"], // ≥ 16 channels: the input gradient's interleave copies whole pixels
];

const label = ([n, h, w, ci, k, co, s, pad]: (typeof CASES)[number]) =>
  `x ${n}×${h}×${w}×${ci}, ${k}×${k}→${co}, stride ${s}, ${pad}`;

function filterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: number[], s: number, pad: Pad): tf.Tensor {
  return tf
    .engine()
    .runKernel(
      "Conv2DBackpropFilter",
      { x, dy },
      { strides: [s, s], pad, dataFormat: "NHWC", filterShape },
    ) as tf.Tensor;
}

async function onBackend<T>(name: "wasm" | "cpu", f: () => T): Promise<T> {
  await tf.setBackend(name);
  return f();
}

test("initBackend picks wasm here and registers the project kernels", async () => {
  const name = await initBackend("wasm");
  assert.equal(name, "wasm");
  assert.ok(projectKernelsRegistered());
  assert.ok(tf.getKernel("Conv2DBackpropFilter", "wasm"), "wasm has Conv2DBackpropFilter");
  assert.equal(stockKernel("Conv2DBackpropFilter", "wasm"), undefined, "tfjs itself has none for wasm");
  assert.ok(stockKernel("Conv2DBackpropInput", "wasm"), "the stock wasm Conv2DBackpropInput is kept");
});

for (const backend of ["wasm", "cpu"] as const) {
  test(`Conv2DBackpropFilter on ${backend} matches the reference loop`, async () => {
    await initBackend("wasm");
    for (const cse of CASES) {
      const [n, h, w, ci, k, co, s, pad] = cse;
      const xs = rand(n * h * w * ci, 1);
      const r = axis(h, k, s, pad);
      const c = axis(w, k, s, pad);
      const dys = rand(n * r.out * c.out * co, 2);
      const got = await onBackend(backend, () =>
        tf.tidy(() =>
          filterGrad(
            tf.tensor4d(xs, [n, h, w, ci]),
            tf.tensor4d(dys, [n, r.out, c.out, co]),
            [k, k, ci, co],
            s,
            pad,
          ).dataSync(),
        ),
      );
      const want = refFilterGrad(xs, [n, h, w, ci], dys, k, co, s, pad);
      assert.ok(relErr(got, want) < 1e-5, `${label(cse)}: relative error ${relErr(got, want)}`);
    }
  });
}

test(
  "Conv2DBackpropFilter on wasm: both layouts (planes, im2col) and image groups (small cache budget) " +
    "give the same result",
  async () => {
    await initBackend("wasm");
    const saved = FILTER_GRAD_GROUP_FLOATS;
    try {
      for (const [method, budget] of [
        ["planes", 1],
        ["planes", 500],
        ["im2col", 1],
        ["im2col", 500],
        ["im2col", saved],
      ] as const) {
        setFilterGradGroupFloats(budget);
        setFilterGradMethod(method);
        for (const cse of CASES) {
          const [n, h, w, ci, k, co, s, pad] = cse;
          const xs = rand(n * h * w * ci, 3);
          const r = axis(h, k, s, pad);
          const c = axis(w, k, s, pad);
          const dys = rand(n * r.out * c.out * co, 4);
          const got = tf.tidy(() =>
            filterGrad(
              tf.tensor4d(xs, [n, h, w, ci]),
              tf.tensor4d(dys, [n, r.out, c.out, co]),
              [k, k, ci, co],
              s,
              pad,
            ).dataSync(),
          );
          const want = refFilterGrad(xs, [n, h, w, ci], dys, k, co, s, pad);
          assert.ok(
            relErr(got, want) < 1e-5,
            `${label(cse)}, ${method}, budget ${budget}: relative error ${relErr(got, want)}`,
          );
        }
      }
    } finally {
      setFilterGradGroupFloats(saved);
      setFilterGradMethod(undefined);
    }
  },
);

test(
  "wasm kernels survive the heap growing inside XNNPACK calls " + "(their Float32Array views are taken again)",
  async () => {
    await initBackend("wasm");
    const heap = wasmInternals(tf.backend());
    const wasm = (tf.backend() as unknown as WasmBackendLike).wasm;
    const { matMul } = heap;
    // Growing the wasm memory detaches every view of the old buffer, as an XNNPACK allocation can.
    const grow = () => wasm._free(wasm._malloc(wasm.HEAPU8.length + (16 << 20)));
    let grown = false;
    heap.matMul = (a, b, out) => {
      if (!grown) grow(); // once per kernel call: the heap would double on every call otherwise
      grown = true;
      matMul(a, b, out);
    };
    const saved = FILTER_GRAD_GROUP_FLOATS;
    try {
      setFilterGradGroupFloats(1); // one group per image: several matmuls per call
      for (const method of ["planes", "im2col"] as const) {
        setFilterGradMethod(method);
        grown = false;
        const cse = CASES[2];
        const [n, h, w, ci, k, co, s, pad] = cse;
        const xs = rand(n * h * w * ci, 21);
        const r = axis(h, k, s, pad);
        const c = axis(w, k, s, pad);
        const dys = rand(n * r.out * c.out * co, 22);
        const before = wasm.HEAPU8.length;
        const got = tf.tidy(() =>
          filterGrad(
            tf.tensor4d(xs, [n, h, w, ci]),
            tf.tensor4d(dys, [n, r.out, c.out, co]),
            [k, k, ci, co],
            s,
            pad,
          ).dataSync(),
        );
        assert.ok(wasm.HEAPU8.length > before, "the heap grew during the kernel");
        const want = refFilterGrad(xs, [n, h, w, ci], dys, k, co, s, pad);
        assert.ok(relErr(got, want) < 1e-5, `${method}: relative error ${relErr(got, want)}`);
      }
    } finally {
      heap.matMul = matMul;
      setFilterGradGroupFloats(saved);
      setFilterGradMethod(undefined);
    }
  },
);

test("Conv2DBackpropInput on wasm matches the reference loop (also conv2dTranspose's forward pass)", async () => {
  await initBackend("wasm");
  for (const cse of CASES) {
    const [n, h, w, ci, k, co, s, pad] = cse;
    const r = axis(h, k, s, pad);
    const c = axis(w, k, s, pad);
    const dys = rand(n * r.out * c.out * co, 5);
    const fs = rand(k * k * ci * co, 6);
    const got = tf.tidy(() =>
      tf
        .conv2dTranspose(
          tf.tensor4d(dys, [n, r.out, c.out, co]),
          tf.tensor4d(fs, [k, k, ci, co]),
          [n, h, w, ci],
          s,
          pad,
        )
        .dataSync(),
    );
    const want = refInputGrad(dys, fs, [n, h, w, ci], k, co, s, pad);
    assert.ok(relErr(got, want) < 1e-5, `${label(cse)}: relative error ${relErr(got, want)}`);
  }
});

test("Conv2DBackpropInput: the stride-phase split covers each output once and uses each filter tap once", () => {
  for (const [n, h, w, ci, k, co, s, pad] of CASES) {
    const phases = inputGradPhases(tf.backend_util.computeConv2DInfo([n, h, w, ci], [k, k, ci, co], s, 1, pad));
    assert.equal(
      phases.reduce((t, p) => t + p.rows * p.cols, 0),
      h * w,
    );
    assert.equal(
      phases.reduce((t, p) => t + p.th * p.tw, 0),
      k * k,
    );
  }
});

test(
  "Conv2DBackpropInput on wasm: explicit padding wider than the kernel (dy cropped) " +
    "and NCHW (stock kernel) match cpu",
  async () => {
    await initBackend("wasm");
    const dy = rand(2 * 12 * 11 * 3, 7);
    const f = rand(3 * 3 * 2 * 3, 8);
    const cases: [number[], number[], number, unknown, string][] = [
      [
        [2, 12, 11, 3],
        [2, 6, 6, 2],
        1,
        [
          [0, 0],
          [4, 4],
          [3, 4],
          [0, 0],
        ],
        "NHWC",
      ],
      [
        [2, 5, 6, 3],
        [2, 7, 9, 2],
        2,
        [
          [0, 0],
          [3, 2],
          [4, 1],
          [0, 0],
        ],
        "NHWC",
      ],
      [[2, 3, 12, 11], [2, 2, 12, 11], 1, "same", "NCHW"],
    ];
    for (const [dyShape, inputShape, s, pad, dataFormat] of cases) {
      const size = dyShape.reduce((a, b) => a * b, 1);
      const run = () =>
        tf.tidy(() =>
          (
            tf.engine().runKernel(
              "Conv2DBackpropInput",
              { dy: tf.tensor(dy.subarray(0, size), dyShape), filter: tf.tensor4d(f, [3, 3, 2, 3]) },
              {
                strides: [s, s],
                pad: pad as never,
                dataFormat,
                inputShape,
              },
            ) as tf.Tensor
          ).dataSync(),
        );
      const got = run();
      await tf.setBackend("cpu");
      const want = run();
      await tf.setBackend("wasm");
      assert.ok(
        relErr(got, want) < 1e-5,
        `${dataFormat} pad ${JSON.stringify(pad)}: relative error ${relErr(got, want)}`,
      );
    }
  },
);

test("gradients of conv2d and conv2dTranspose on wasm equal the stock cpu kernels'", async () => {
  await initBackend("wasm");
  for (const cse of CASES) {
    const [n, h, w, ci, k, co, s, pad] = cse;
    const xs = rand(n * h * w * ci, 9);
    const fs = rand(k * k * ci * co, 10);
    const r = axis(h, k, s, pad);
    const c = axis(w, k, s, pad);
    const ys = rand(n * r.out * c.out * co, 11);
    const weights = rand(n * h * w * ci, 12);
    // Weighted sums, so every gradient entry is different.
    const grads = () =>
      tf.tidy(() => {
        const x = tf.tensor4d(xs, [n, h, w, ci]);
        const f = tf.tensor4d(fs, [k, k, ci, co]);
        const y = tf.tensor4d(ys, [n, r.out, c.out, co]);
        const conv = tf.grads((a, b) =>
          tf
            .conv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, pad)
            .mul(y)
            .sum(),
        )([x, f]);
        const tr = tf.grads((a, b) =>
          tf
            .conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, [n, h, w, ci], s, pad)
            .mul(tf.tensor4d(weights, [n, h, w, ci]))
            .sum(),
        )([y, f]);
        return [...conv, ...tr].map((t) => t.dataSync());
      });
    const got = await onBackend("wasm", grads);
    unregisterProjectKernels();
    const want = await onBackend("cpu", grads);
    registerProjectKernels();
    await tf.setBackend("wasm");
    ["conv2d dx", "conv2d dW", "conv2dTranspose dInput", "conv2dTranspose dW"].forEach((name, i) =>
      assert.ok(relErr(got[i], want[i]) < 1e-5, `${label(cse)} ${name}: relative error ${relErr(got[i], want[i])}`),
    );
  }
});

test("Sum over leading axes on wasm equals the stock reduction; other axes still work", async () => {
  await initBackend("wasm");
  assert.equal(leadingAxes([0, 1, 2], 4), 3);
  assert.equal(leadingAxes([1, 0], 3), 2);
  assert.equal(leadingAxes(-4, 4), 1);
  assert.equal(leadingAxes([1, 2], 3), 0);
  assert.equal(leadingAxes(undefined, 3), 0, "a full reduction goes to the stock kernel");
  const xs = rand(3 * 5 * 7 * 4, 13);
  const cases: [number | number[] | undefined, boolean][] = [
    [[0, 1, 2], false],
    [[0, 1, 2], true],
    [0, false],
    [[1, 2], false],
    [3, true],
    [undefined, false],
    [[-1, 0], false],
  ];
  for (const [ax, keep] of cases) {
    const run = () =>
      tf.tidy(() => {
        const t = tf.tensor4d(xs, [3, 5, 7, 4]).sum(ax, keep);
        return { shape: t.shape, v: t.dataSync() };
      });
    const got = run();
    await tf.setBackend("cpu");
    const want = run();
    await tf.setBackend("wasm");
    assert.deepEqual(got.shape, want.shape, `axis ${ax}`);
    assert.ok(relErr(got.v, want.v) < 1e-6, `axis ${ax}: relative error ${relErr(got.v, want.v)}`);
  }
  const ints = tf.tensor2d([1, 2, 3, 4], [2, 2], "int32").sum(0);
  assert.deepEqual(Array.from(ints.dataSync()), [4, 6], "int32 sums go to the stock kernel");
  ints.dispose();
});

test(
  "Tile on wasm equals the stock cpu kernel (every axis, reps of 1, rank 1–4); " + "int32 goes to the stock kernel",
  async () => {
    await initBackend("wasm");
    const cases: [number[], number[]][] = [
      [
        [1, 1, 1, 4],
        [3, 5, 7, 1],
      ],
      [
        [2, 3],
        [2, 1],
      ],
      [[5], [3]],
      [
        [2, 1, 3],
        [1, 4, 2],
      ],
      [
        [3, 2, 2, 2],
        [1, 1, 1, 1],
      ],
    ];
    for (const [shape, reps] of cases) {
      const xs = rand(
        shape.reduce((a, b) => a * b, 1),
        5,
      );
      const run = () =>
        tf.tidy(() => {
          const t = tf.tile(tf.tensor(xs, shape), reps);
          return { shape: t.shape, v: Array.from(t.dataSync()) };
        });
      const got = run();
      await tf.setBackend("cpu");
      const want = run();
      await tf.setBackend("wasm");
      assert.deepEqual(got, want, `tile ${shape} by ${reps}`);
    }
    const ints = tf.tile(tf.tensor1d([1, 2], "int32"), [2]);
    assert.deepEqual(Array.from(ints.dataSync()), [1, 2, 1, 2]);
    ints.dispose();
  },
);

test("Identity and same-dtype Cast on wasm share data safely; real casts still convert", async () => {
  await initBackend("wasm");
  const a = tf.tensor1d([1.5, -2, 3]);
  const b = a.clone();
  const c = a.cast("float32");
  a.dispose();
  assert.deepEqual(Array.from(b.dataSync()), [1.5, -2, 3]);
  assert.deepEqual(Array.from(c.dataSync()), [1.5, -2, 3]);
  const i = c.cast("int32");
  assert.equal(i.dtype, "int32");
  assert.deepEqual(Array.from(i.dataSync()), [1, -2, 3]);
  const before = tf.memory().numBytes;
  tf.dispose([b, c, i]);
  assert.ok(tf.memory().numBytes < before);
});

test("baseline kernels (for comparisons) work on a running wasm backend, and the project's come back", async () => {
  await initBackend("wasm");
  const [n, h, w, ci, k, co, s, pad] = CASES[0];
  const r = axis(h, k, s, pad);
  const c = axis(w, k, s, pad);
  const dys = rand(n * r.out * c.out * co, 18);
  const fs = rand(k * k * ci * co, 19);
  const xs = rand(n * h * w * ci, 20);
  const run = () =>
    tf.tidy(() => [
      tf
        .conv2dTranspose(
          tf.tensor4d(dys, [n, r.out, c.out, co]),
          tf.tensor4d(fs, [k, k, ci, co]),
          [n, h, w, ci],
          s,
          pad,
        )
        .dataSync(),
      filterGrad(
        tf.tensor4d(xs, [n, h, w, ci]),
        tf.tensor4d(dys, [n, r.out, c.out, co]),
        [k, k, ci, co],
        s,
        pad,
      ).dataSync(),
      tf.tensor2d(xs.subarray(0, 12), [4, 3]).sum(0).dataSync(),
    ]);
  const mine = run();
  useBaselineKernels();
  try {
    assert.ok(!projectKernelsRegistered());
    const base = run();
    mine.forEach((v, i) => assert.ok(relErr(base[i], v) < 1e-5, `output ${i}: relative error ${relErr(base[i], v)}`));
  } finally {
    registerProjectKernels();
  }
  assert.ok(projectKernelsRegistered());
  const again = run();
  mine.forEach((v, i) => assert.ok(relErr(again[i], v) < 1e-6));
});

test(
  "the autoencoder trains to the same losses on wasm as on cpu " + "with tfjs's own kernels, without leaking",
  async () => {
    await initBackend("wasm");
    const cfg = { height: 16, width: 24, channels: 3, filters: [4, 8, 16], seed: 3 };
    const batch = rand(4 * 16 * 24 * 3, 14).map((v) => v + 0.5);
    const losses = async (backend: "wasm" | "cpu", steps: number) => {
      await tf.setBackend(backend);
      const model = buildAutoencoder(cfg);
      const x = tf.tensor4d(batch, [4, 16, 24, 3]);
      const out: number[] = [];
      for (let i = 0; i < steps; i++) out.push((await model.trainOnBatch(x, x)) as number);
      x.dispose();
      model.dispose();
      return out;
    };
    const got = await losses("wasm", 4);
    unregisterProjectKernels();
    const want = await losses("cpu", 4);
    registerProjectKernels();
    got.forEach((l, i) => assert.ok(Math.abs(l - want[i]) / want[i] < 1e-4, `step ${i}: wasm ${l} vs cpu ${want[i]}`));
    assert.ok(got[3] < got[0], "the loss goes down");

    await tf.setBackend("wasm");
    const model = buildAutoencoder(cfg);
    const x = tf.tensor4d(batch, [4, 16, 24, 3]);
    await model.trainOnBatch(x, x);
    const before = tf.memory();
    for (let i = 0; i < 20; i++) await model.trainOnBatch(x, x);
    const after = tf.memory();
    assert.equal(after.numTensors, before.numTensors, "tensor count is stable");
    assert.equal(after.numBytes, before.numBytes, "bytes held are stable");
    model.dispose();
    x.dispose();
  },
);

test("profileTrainStep splits a training step into forward, backward and optimizer kernels", async () => {
  await initBackend("wasm");
  const model = buildAutoencoder({ height: 8, width: 8, channels: 1, filters: [2, 4], seed: 5 });
  const x = tf.randomUniform([2, 8, 8, 1], 0, 1, "float32", 6);
  const p = await profileTrainStep(model, x, { steps: 1, warmup: 1, clock: "cpu" });
  const phaseOf = (kernel: string) => new Set(p.rows.filter((r) => r.kernel === kernel).map((r) => r.phase));
  assert.deepEqual(phaseOf("Conv2DBackpropFilter"), new Set(["backward"]));
  assert.ok(phaseOf("Conv2DBackpropInput").has("forward"), "conv2dTranspose's forward pass");
  assert.ok(phaseOf("Sqrt").has("optimizer"), "Adam's update");
  assert.equal(
    p.rows.filter((r) => r.kernel === "Conv2DBackpropFilter").reduce((s, r) => s + r.calls, 0),
    5,
    "one per conv layer",
  );
  assert.ok(p.kernelMs > 0 && p.stepMs > 0);
  const table = formatProfile(p, 3);
  assert.match(table, /^kernel\s+phase\s+calls\s+ms\/step\s+share/);
  assert.match(table, /img\/s \(batch 2, CPU time\)$/);
  assert.equal(
    typeof (tf.backend() as unknown as Record<string, unknown>).time,
    "function",
    "backend.time is restored",
  );
  assert.ok(!Object.hasOwn(tf.backend(), "time"), "the patched clock is gone");
  tf.dispose(x);
  model.dispose();
  const uncompiled = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [1] })] });
  await assert.rejects(() => profileTrainStep(uncompiled, tf.zeros([1, 1])), /must be compiled/);
});

test("modelArgs reads the benchmark size flags and rejects bad ones", () => {
  const d = { ...DEFAULT_MODEL, batch: 64 };
  assert.deepEqual(modelArgs([], d), d);
  const small = modelArgs(["--preset", "small"], d);
  assert.deepEqual(
    [small.height, small.width, small.channels, small.filters, small.batch],
    [64, 64, 1, [16, 32, 64], 32],
  );
  const custom = modelArgs(["--height", "64", "--filters", "8,16", "--batch", "4"], d);
  assert.deepEqual([custom.height, custom.width, custom.filters, custom.batch], [64, 48, [8, 16], 4]);
  assert.throws(() => modelArgs(["--batch", "0"], d), /--batch must be a positive integer, got "0"/);
  assert.throws(() => modelArgs(["--height"], d), /--height needs a value/);
  assert.throws(() => modelArgs(["--filters", "8,x"], d), /--filters must be positive integers/);
  assert.throws(() => modelArgs(["--preset", "huge"], d), /--preset must be "small" or "default"/);
});
