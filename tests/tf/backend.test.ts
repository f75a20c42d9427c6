import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { backendFromEnv, initBackend } from "../../lib/tf/backend";
import { projectKernelsRegistered } from "../../lib/tf/kernels";

/** Run f with TF_BACKEND set to value (or unset), restoring it afterwards. */
async function withEnv<T>(value: string | undefined, f: () => Promise<T>): Promise<T> {
  const saved = process.env.TF_BACKEND;
  if (value === undefined) delete process.env.TF_BACKEND;
  else process.env.TF_BACKEND = value;
  try {
    return await f();
  } finally {
    if (saved === undefined) delete process.env.TF_BACKEND;
    else process.env.TF_BACKEND = saved;
  }
}

test("backendFromEnv reads TF_BACKEND and rejects unknown names", () => {
  assert.equal(backendFromEnv({}), undefined);
  assert.equal(backendFromEnv({ TF_BACKEND: "" }), undefined);
  assert.equal(backendFromEnv({ TF_BACKEND: " WASM " }), "wasm");
  assert.equal(backendFromEnv({ TF_BACKEND: "cpu" }), "cpu");
  assert.throws(
    () => backendFromEnv({ TF_BACKEND: "webgl" }),
    /TF_BACKEND must be one of tensorflow, wasm, cpu; got "webgl"/,
  );
});

test(
  "with no preference it takes the best backend present; " + "tfjs-node is absent here, so wasm, saying why",
  async () => {
    await withEnv(undefined, async () => {
      const lines: string[] = [];
      const name = await initBackend(undefined, { log: (l) => lines.push(l) });
      let nodeInstalled = true;
      try {
        require.resolve("@tensorflow/tfjs-node");
      } catch {
        nodeInstalled = false;
      }
      assert.equal(name, nodeInstalled ? "tensorflow" : "wasm");
      assert.equal(tf.getBackend(), name);
      assert.equal(lines.length, 1);
      assert.match(lines[0], new RegExp(`^tfjs backend: ${name} `));
      if (!nodeInstalled) assert.match(lines[0], /skipped tensorflow: @tensorflow\/tfjs-node is not installed/);
      assert.ok(projectKernelsRegistered(), "the project kernels are registered");
      assert.ok(tf.getKernel("Conv2DBackpropFilter", "wasm"), "so wasm can train conv nets");
    });
  },
);

test("initBackend is idempotent: a second call keeps the backend and logs nothing", async () => {
  await withEnv(undefined, async () => {
    await initBackend("wasm");
    const lines: string[] = [];
    assert.equal(await initBackend("wasm", { log: (l) => lines.push(l) }), "wasm");
    assert.equal(await initBackend("wasm", { log: (l) => lines.push(l) }), "wasm");
    assert.deepEqual(lines, []);
  });
});

test("an explicit preference switches backend, and TF_BACKEND overrides the argument", async () => {
  await withEnv(undefined, async () => {
    assert.equal(await initBackend("cpu"), "cpu");
    assert.equal(tf.getBackend(), "cpu");
    assert.equal(await initBackend("wasm"), "wasm");
  });
  await withEnv("cpu", async () => {
    assert.equal(await initBackend("wasm"), "cpu");
    assert.equal(tf.getBackend(), "cpu");
  });
  await withEnv(undefined, async () => assert.equal(await initBackend("wasm"), "wasm"));
});

test("bad names fail clearly", async () => {
  await assert.rejects(
    () => initBackend("webgpu" as never),
    /initBackend: backend must be one of tensorflow, wasm, cpu; got "webgpu"/,
  );
  await withEnv("gpu", async () => {
    await assert.rejects(() => initBackend("wasm"), /TF_BACKEND must be one of tensorflow, wasm, cpu; got "gpu"/);
  });
});

test("a wasm backend from initBackend trains a conv layer (it has Conv2DBackpropFilter)", async () => {
  await withEnv(undefined, async () => {
    await initBackend("wasm");
    const x = tf.randomUniform([2, 8, 8, 1], 0, 1, "float32", 1);
    const w = tf.variable(tf.randomNormal([3, 3, 1, 2], 0, 0.1, "float32", 2));
    const g = tf.grad((f: tf.Tensor) =>
      tf
        .conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, "same")
        .square()
        .mean(),
    )(w);
    assert.deepEqual(g.shape, [3, 3, 1, 2]);
    assert.ok(Array.from(g.dataSync()).some((v) => v !== 0));
    tf.dispose([x, w, g]);
  });
});
