/**
 * The fault suite (issue 11): the real command lines, run through child_process on a small generated dataset, given
 * bad values and killed at bad moments. Every case is a real test of exit code and message.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import sharp from "sharp";
import { mulberry32 } from "../../lib/common/random";

const ROOT = path.resolve(__dirname, "..", "..");
const WORK = fs.mkdtempSync(path.join(os.tmpdir(), "faults-"));
const DATA = path.join(WORK, "data");
const ENV = { ...process.env, IMAGE_CACHE_DIR: path.join(WORK, "cache"), BAYES_FAULT_PAUSE_MS: "" };
/** Small and slow enough to kill mid-epoch: 16×24 crops, batch 2, one thread. */
const TINY = [
  "--data",
  DATA,
  "--size",
  "16x24",
  "--filters",
  "4,8",
  "--batch",
  "2",
  "--workers",
  "1",
  "--blocks",
  "plain",
];

async function png(file: string, seed: number, blob = false) {
  const rand = mulberry32(seed);
  const w = 30,
    h = 20,
    px = Buffer.alloc(w * h * 3);
  for (let i = 0; i < w * h; i++)
    for (let k = 0; k < 3; k++) px[i * 3 + k] = blob && i % w > 10 && i % w < 20 ? 240 : 80 + Math.round(60 * rand());
  await sharp(px, { raw: { width: w, height: h, channels: 3 } })
    .png()
    .toFile(file);
}

const ready = (async () => {
  fs.mkdirSync(path.join(DATA, "train"), { recursive: true });
  fs.mkdirSync(path.join(DATA, "proliv"));
  fs.mkdirSync(path.join(DATA, "test"));
  for (let i = 0; i < 160; i++) await png(path.join(DATA, "train", `n${i}.png`), i);
  for (let i = 0; i < 6; i++) await png(path.join(DATA, "proliv", `s${i}.png`), 500 + i, true);
  for (let i = 0; i < 40; i++) await png(path.join(DATA, "test", `p${i}.png`), 900 + i, i % 8 === 0);
})();

function cli(script: string, args: string[], env: NodeJS.ProcessEnv = ENV) {
  const r = spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "scripts", script), ...args], {
    cwd: ROOT,
    encoding: "utf8",
    env,
  });
  return { code: r.status, out: `${r.stdout}\n${r.stderr}` };
}
function start(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv = ENV,
): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "scripts", script), ...args], {
    cwd: ROOT,
    env,
  });
  let text = "";
  child.stdout!.on("data", (d) => (text += d));
  child.stderr!.on("data", (d) => (text += d));
  return { child, output: () => text, exited: new Promise((r) => child.on("exit", (code) => r(code))) };
}
async function until(cond: () => boolean, what: string, ms = 90_000) {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
const logEpochs = (run: string) =>
  fs
    .readFileSync(path.join(run, "log.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l).epoch as number);
const leftovers = (dir: string): string[] =>
  fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      /\.tmp$|\.tmp\.|\.paused$/.test(e.name)
        ? [path.join(dir, e.name)]
        : e.isDirectory()
          ? leftovers(path.join(dir, e.name))
          : [],
    );

const BAD: [string, string[], RegExp][] = [
  ["train.ts", ["--epochs", "abc"], /--epochs "abc": must be a whole number/],
  ["train.ts", ["--batch", "0"], /--batch "0": must be a whole number ≥ 1/],
  ["train.ts", ["--lr", "abc"], /--lr "abc": must be a number > 0/],
  ["train.ts", ["--limit", "abc"], /--limit "abc": must be a whole number ≥ 2/],
  ["train.ts", ["--patience", "abc"], /--patience "abc": must be a whole number/],
  ["train.ts", ["--monitor", "foo"], /--monitor "foo": must be one of val_loss, val_auroc/],
  ["train.ts", ["--filters", "32,abc"], /--filters "32,abc": must be a comma-separated list/],
  ["train.ts", ["--score", "foo"], /--score "foo": must be one of mse/],
  ["train.ts", ["--holdout", "1.5"], /--holdout "1.5": must be a number ≥ 0 and ≤ 0.9/],
  ["train.ts", ["--size", "32by48"], /--size "32by48": must look like HEIGHTxWIDTH/],
  ["train.ts", ["--model", "gan"], /--model "gan": must be one of ae, vae/],
  ["train.ts", ["--data", "/nonexistent-folder"], /--data \/nonexistent-folder: no such folder/],
  ["train.ts", ["--frobnicate"], /Unknown option '--frobnicate'/],
  ["train.ts", ["--size", "30x45"], /--size 30x45 with --filters 32,64,128: input 30×45 must be divisible by 2\^3 = 8/],
  ["score.ts", ["x.jpg", "--threshold", "abc"], /--threshold "abc": must be a number/],
  ["score.ts", [], /name the images or folders/],
  ["score.ts", ["/nonexistent-dir"], /no such file or folder: \/nonexistent-dir/],
  [
    "score.ts",
    [`${DATA}/test`, "--out", "/nonexistent-dir/x.csv"],
    /--out \/nonexistent-dir\/x\.csv: folder \/nonexistent-dir does not exist/,
  ],
  ["score.ts", [`${DATA}/test`, "--model", "/nonexistent-model"], /--model \/nonexistent-model: no model\.json there/],
  ["promote.ts", [], /name the run folder/],
  ["promote.ts", ["/nonexistent-run"], /no such run folder/],
  ["experiment.ts", ["/nonexistent-run"], /no such run folder/],
  ["charts.ts", [], /name the run folder/],
  ["charts.ts", ["--run", "models/wells-ae", "--out", "/nonexistent-dir"], /--out \/nonexistent-dir: no such folder/],
  ["avatars.ts", ["--count", "0"], /--count "0": must be a whole number ≥ 1/],
];

test(
  `bad values: each of ${BAD.length} fails before any work with exit code 2, ` +
    "naming the option, the value and what is allowed",
  { timeout: 300_000 },
  async () => {
    await ready;
    for (const [script, args, want] of BAD) {
      const r = cli(script, args);
      assert.equal(r.code, 2, `${script} ${args.join(" ")} exited ${r.code}:\n${r.out}`);
      assert.match(r.out, want, `${script} ${args.join(" ")}`);
    }
    const help = cli("train.ts", ["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.out, /--epochs <int> +train up to this many epochs .*default 8/);
  },
);

test("--workers above the core count is capped, with a message", { timeout: 120_000 }, async () => {
  await ready;
  const r = cli("train.ts", [...TINY, "--workers", "99", "--epochs", "0", "--run", path.join(WORK, "capped")]);
  assert.equal(r.code, 0, r.out);
  assert.match(
    r.out,
    new RegExp(
      `--workers 99 is more than the ${os.availableParallelism()} cores here: using ${os.availableParallelism()}`,
    ),
  );
});

test(
  "SIGKILL mid-epoch, then rerun: the run resumes, its log is whole, no temp file is left",
  { timeout: 240_000 },
  async () => {
    await ready;
    const run = path.join(WORK, "killed");
    const a = start("train.ts", [...TINY, "--epochs", "4", "--run", run]);
    await until(
      () =>
        /epoch 1: loss/.test(a.output()) && /epoch 2\/4 .*batch [1-9]/.test(a.output().split("epoch 1: loss")[1] ?? ""),
      "epoch 2 to start",
    );
    a.child.kill("SIGKILL");
    await a.exited;
    assert.deepEqual(logEpochs(run), [1]);
    const b = cli("train.ts", [...TINY, "--epochs", "4", "--run", run]);
    assert.equal(b.code, 0, b.out);
    assert.match(b.out, /resuming .* after epoch 1/);
    assert.deepEqual(logEpochs(run), [1, 2, 3, 4]);
    assert.deepEqual(leftovers(run), []);
    assert.ok(!fs.existsSync(path.join(run, "train.lock")), "the lock is released");
    const again = cli("train.ts", [...TINY, "--epochs", "4", "--run", run]);
    assert.equal(again.code, 0);
    assert.match(again.out, /already holds 4 epochs \(asked for 4\): nothing to train; raise --epochs/);
  },
);

test(
  "SIGKILL inside a checkpoint save (test hook): the previous checkpoint still loads and the run resumes",
  { timeout: 240_000 },
  async () => {
    await ready;
    const run = path.join(WORK, "killed-in-save");
    assert.equal(cli("train.ts", [...TINY, "--epochs", "1", "--run", run]).code, 0);
    const a = start("train.ts", [...TINY, "--epochs", "2", "--run", run], { ...ENV, BAYES_FAULT_PAUSE_MS: "60000" });
    await until(() => fs.readdirSync(run).some((f) => f.endsWith(".paused")), "the save to pause");
    a.child.kill("SIGKILL");
    await a.exited;
    const b = cli("train.ts", [...TINY, "--epochs", "2", "--run", run]);
    assert.equal(b.code, 0, b.out);
    assert.match(b.out, /resuming .* after epoch 1/);
    assert.deepEqual(logEpochs(run), [1, 2]);
  },
);

test("a truncated weights.bin is named, with the way out", { timeout: 120_000 }, async () => {
  await ready;
  const run = path.join(WORK, "truncated");
  assert.equal(cli("train.ts", [...TINY, "--epochs", "1", "--run", run]).code, 0);
  const w = path.join(run, "last", "weights.bin");
  fs.truncateSync(w, fs.statSync(w).size - 100);
  const r = cli("train.ts", [...TINY, "--epochs", "2", "--run", run]);
  assert.equal(r.code, 1);
  assert.match(
    r.out,
    new RegExp(
      `${w.replace(/[.]/g, "\\.")} holds \\d+ bytes but model\\.json describes \\d+ \\(truncated or damaged\\)`,
    ),
  );
  assert.match(r.out, /copy .*best over last\/ .* or add --fresh/);
});

test(
  "a resume with other settings is refused, naming each difference; --fresh starts over",
  { timeout: 120_000 },
  async () => {
    await ready;
    const run = path.join(WORK, "changed");
    assert.equal(cli("train.ts", [...TINY, "--epochs", "1", "--run", run]).code, 0);
    const r = cli("train.ts", [
      ...TINY.map((a) => (a === "4,8" ? "8,16" : a)),
      "--lr",
      "0.01",
      "--epochs",
      "2",
      "--run",
      run,
    ]);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /started with other settings/);
    assert.match(r.out, /model\.filters: \[4,8\] → \[8,16\]/);
    assert.match(r.out, /model\.learningRate: 0\.001 → 0\.01/);
    assert.deepEqual(logEpochs(run), [1], "nothing was trained or written");
    const meta = JSON.parse(fs.readFileSync(path.join(run, "last", "model.json"), "utf8")).userDefinedMetadata;
    assert.deepEqual(meta.model.filters, [4, 8], "the metadata still says what was trained");
    const fresh = cli("train.ts", [
      ...TINY.map((a) => (a === "4,8" ? "8,16" : a)),
      "--epochs",
      "1",
      "--run",
      run,
      "--fresh",
    ]);
    assert.equal(fresh.code, 0, fresh.out);
    assert.deepEqual(
      JSON.parse(fs.readFileSync(path.join(run, "last", "model.json"), "utf8")).userDefinedMetadata.model.filters,
      [8, 16],
    );
    const more = cli("train.ts", [...TINY.map((a) => (a === "4,8" ? "8,16" : a)), "--epochs", "2", "--run", run]);
    assert.equal(more.code, 0, "more --epochs is allowed on resume");
  },
);

test(
  "the split is part of the run's config: another --holdout or --seed is refused by name, and the model stores it",
  { timeout: 120_000 },
  async () => {
    await ready;
    const run = path.join(WORK, "split");
    assert.equal(cli("train.ts", [...TINY, "--epochs", "1", "--run", run]).code, 0);
    const config = JSON.parse(fs.readFileSync(path.join(run, "last", "model.json"), "utf8")).userDefinedMetadata.config;
    assert.deepEqual(config.split, { seed: 1, holdout: 0.1 });
    assert.deepEqual(config.filters, [4, 8]);
    const r = cli("train.ts", [...TINY, "--holdout", "0.2", "--seed", "3", "--epochs", "2", "--run", run]);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /config\.split\.holdout: 0\.1 → 0\.2/);
    assert.match(r.out, /config\.split\.seed: 1 → 3/);
    assert.deepEqual(logEpochs(run), [1], "nothing was trained or written");
  },
);

test(
  "two trainings on one run: the second refuses (lock file), and the first finishes unharmed",
  { timeout: 240_000 },
  async () => {
    await ready;
    const run = path.join(WORK, "locked");
    const a = start("train.ts", [...TINY, "--epochs", "20", "--patience", "100", "--run", run]);
    await until(() => /epoch 1\/20/.test(a.output()), "the first to start training");
    const b = cli("train.ts", [...TINY, "--epochs", "20", "--patience", "100", "--run", run]);
    assert.equal(b.code, 1, b.out);
    assert.match(b.out, /is being trained by another process \(pid \d+/);
    assert.equal(await a.exited, 0, a.output());
    assert.deepEqual(
      logEpochs(run),
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
  },
);

test(
  "score: a corrupt image is listed with its error, the others are scored; exit 1, or 0 with --skip-bad",
  { timeout: 240_000 },
  async () => {
    await ready;
    const run = path.join(WORK, "for-score"),
      model = path.join(WORK, "model");
    assert.equal(cli("train.ts", [...TINY, "--epochs", "1", "--run", run]).code, 0);
    const p = cli("promote.ts", [run, "--data", DATA, "--to", model]);
    assert.equal(p.code, 0, p.out);
    const folder = path.join(WORK, "incoming");
    fs.mkdirSync(folder);
    for (let i = 0; i < 5; i++) fs.copyFileSync(path.join(DATA, "test", `p${i}.png`), path.join(folder, `ok${i}.png`));
    fs.writeFileSync(path.join(folder, "broken.png"), Buffer.from("not a png at all"));
    const out = path.join(WORK, "scores.csv");
    const r = cli("score.ts", [folder, "--model", model, "--out", out]);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /could not score .*broken\.png: cannot decode image/);
    assert.match(r.out, /5 of 6 images scored, 1 failed/);
    assert.equal(fs.readFileSync(out, "utf8").trim().split("\n").length, 1 + 5);
    const skip = cli("score.ts", [folder, "--model", model, "--out", out, "--skip-bad"]);
    assert.equal(skip.code, 0, skip.out);
    assert.match(skip.out, /runtime: onnxruntime \(.*model\.onnx/, "promote wrote model.onnx and score uses it");
    const csvOnnx = fs.readFileSync(out, "utf8");
    const noOrt = cli("score.ts", [folder, "--model", model, "--out", out, "--skip-bad"], {
      ...ENV,
      BAYES_DISABLE_ONNXRUNTIME: "1",
    });
    assert.equal(noOrt.code, 0, noOrt.out);
    assert.match(
      noOrt.out,
      /runtime: TensorFlow\.js \(onnxruntime-node cannot load: disabled by BAYES_DISABLE_ONNXRUNTIME=1\)/,
    );
    const rows = (t: string) =>
      t
        .trim()
        .split("\n")
        .slice(1)
        .map((l) => Number(l.split(",")[1]));
    rows(fs.readFileSync(out, "utf8")).forEach((v, i) =>
      assert.ok(
        Math.abs(v - rows(csvOnnx)[i]) <= 1e-5 * Math.max(1, Math.abs(v)),
        `row ${i}: tfjs ${v} vs onnx ${rows(csvOnnx)[i]}`,
      ),
    );
    const forced = cli("score.ts", [folder, "--model", model, "--runtime", "onnx", "--skip-bad"], {
      ...ENV,
      BAYES_DISABLE_ONNXRUNTIME: "1",
    });
    assert.equal(forced.code, 1);
    assert.match(forced.out, /--runtime onnx: onnxruntime-node cannot load: disabled/);
    assert.deepEqual(
      leftovers(WORK).filter((f) => f.startsWith(out)),
      [],
    );
  },
);
