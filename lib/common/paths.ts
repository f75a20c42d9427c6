/**
 * Where the project finds its data.
 *
 * Every dataset is a setting: an environment variable names it explicitly, otherwise the project looks in its own
 * `data/` folder (where a user unpacks the course data) and then in `../shared/data` beside the checkout.
 *
 *   BAYES_DATA_DIR   a folder holding styles.json, avatars/, wells/ (replaces both defaults)
 *   STYLES_FILE      styles.json or the course's styles.py
 *   AVATARS_DIR      folder of avatar PNGs
 *   WELLS_DIR        folder with train/, proliv/, test/
 *
 *   import { resolveData } from "../dist/lib/common";
 *   resolveData("wells")  // -> "/abs/path/to/wells", or a clear error saying where it looked
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** The project's root folder (the one holding package.json), found from this file's location in lib/ or dist/lib/. */
export const projectRoot: string = (() => {
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    if (fs.existsSync(path.join(dir, "package.json"))) return dir;
    dir = path.dirname(dir);
  }
  return process.cwd();
})();

export type DatasetName = "styles" | "avatars" | "wells";

const ENV_BY_DATASET: Record<DatasetName, string> = {
  styles: "STYLES_FILE",
  avatars: "AVATARS_DIR",
  wells: "WELLS_DIR",
};

const ENTRY_BY_DATASET: Record<DatasetName, string> = {
  styles: "styles.json",
  avatars: "avatars",
  wells: "wells",
};

const HINT_BY_DATASET: Record<DatasetName, string> = {
  styles: "the course's styles.json (or styles.py)",
  avatars: "a folder of avatar PNGs (the course's avatars/, 11 files 528×560 RGBA)",
  wells: "the course's wells dataset: train/, proliv/, test/imgs/ and test/test_annotation.txt",
};

/** The folders searched for a dataset, in order. */
export function dataRoots(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.BAYES_DATA_DIR) return [path.resolve(env.BAYES_DATA_DIR)];
  return [path.join(projectRoot, "data"), path.resolve(projectRoot, "..", "shared", "data")];
}

/** The absolute path of a dataset, or an error that says where it looked and what to put there. */
export function resolveData(name: DatasetName, env: NodeJS.ProcessEnv = process.env): string {
  const variable = ENV_BY_DATASET[name];
  const explicit = env[variable];
  if (explicit) {
    const p = path.resolve(explicit);
    if (!fs.existsSync(p))
      throw new Error(`${variable}=${explicit}: ${p} does not exist (expected ${HINT_BY_DATASET[name]})`);
    return p;
  }
  const tried = dataRoots(env).map((root) => path.join(root, ENTRY_BY_DATASET[name]));
  const found = tried.find((p) => fs.existsSync(p));
  if (found) return found;
  throw new Error(
    `dataset "${name}" not found. Looked in:\n  ${tried.join("\n  ")}\n` +
      `Put ${HINT_BY_DATASET[name]} at ${tried[0]}, or set ${variable} (or BAYES_DATA_DIR) to its location.`,
  );
}
