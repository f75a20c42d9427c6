/**
 * Every command in the README's command table runs and exits 0 (issue 11): the table is read from README.md, so it
 * cannot drift from the code. `npm run reports` and `npm test` are left to CI, which runs both itself. Quick settings
 * where a command trains (`--limit 300 --epochs 1`), and outputs go to a temporary folder, never into the checkout.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { courseData } from "../helpers/data";

const ROOT = path.resolve(__dirname, "..", "..");
const README = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");

/** The command cells of the README's command table, in order. */
export function readmeCommands(text: string): string[] {
  const start = text.indexOf("| command | what it does |");
  if (start < 0) throw new Error("README.md has no command table (| command | what it does |)");
  const rows = text.slice(start).split("\n").slice(2);
  const out: string[] = [];
  for (const row of rows) {
    if (!row.startsWith("|")) break;
    const m = /^\|\s*`([^`]+)`/.exec(row);
    if (m) out.push(m[1]);
  }
  return out;
}

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), "readme-"));
const wells = courseData("wells");
const commands = readmeCommands(README).filter((c) => c !== "npm run reports" && c !== "npm test");

/** A README command made safe and quick for a test: outputs under TMP, quick training. */
function forTest(command: string): string[] {
  const args = command.split(/\s+/);
  const quick = args.map((a) =>
    a === "runs/a"
      ? path.join(TMP, "runs-a")
      : a === "models/candidate"
        ? path.join(TMP, "candidate")
        : a === "scores.csv"
          ? path.join(TMP, "scores.csv")
          : a,
  );
  if (command.startsWith("npm run train")) quick.push("--limit", "300", "--epochs", "1");
  if (command.startsWith("npm run charts")) quick[quick.indexOf("docs/img")] = TMP;
  if (command.startsWith("npm run export-onnx")) quick.push("--out", path.join(TMP, "model.onnx"));
  if (command.startsWith("npm run avatars")) quick[quick.indexOf("avatars", 3)] = path.join(TMP, "avatars");
  return quick;
}

test("the README's command table names the commands this project has", () => {
  assert.ok(commands.length >= 7, `only ${commands.length} commands in the table`);
  const scripts = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts as Record<
    string,
    string
  >;
  for (const c of readmeCommands(README)) {
    const m = /^npm (?:run )?(\S+)/.exec(c);
    assert.ok(m && (m[1] === "test" || scripts[m[1]]), `${c}: no such npm script`);
  }
});

test("every README command runs and exits 0 (quick settings)", { skip: wells.skip, timeout: 900_000 }, () => {
  for (const command of commands) {
    if (command.startsWith("npm run charts") && !fs.existsSync("/usr/bin/chromium")) {
      console.log(`# skipped ${command}: Debian chromium is not installed`);
      continue;
    }
    const args = forTest(command);
    const r = spawnSync(args[0], args.slice(1), {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, BENCH_QUICK: "1" },
    });
    assert.equal(
      r.status,
      0,
      `${args.join(" ")} exited ${r.status}:\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`,
    );
  }
  assert.ok(fs.existsSync(path.join(TMP, "candidate", "density.json")), "promote wrote the detector");
  assert.ok(fs.existsSync(path.join(TMP, "model.onnx")), "export-onnx wrote its file where asked");
  assert.ok(
    fs.readFileSync(path.join(TMP, "scores.csv"), "utf8").split("\n").length > 3000,
    "score wrote a row per test image",
  );
});
