/** Atomic file writes: write beside the target, then rename, so a crash never leaves a half-written file. */
import * as fs from "node:fs";
import * as path from "node:path";

export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

/**
 * Replace a whole directory atomically: `fill(tmpDir)` writes into a fresh sibling folder which then takes its
 * place.
 */
export async function replaceDirAtomic(dir: string, fill: (tmpDir: string) => Promise<void> | void): Promise<void> {
  const parent = path.dirname(dir);
  fs.mkdirSync(parent, { recursive: true });
  const tmp = path.join(parent, `.${path.basename(dir)}.${process.pid}.${Date.now()}.tmp`);
  fs.mkdirSync(tmp, { recursive: true });
  try {
    await fill(tmp);
    faultWindow(dir);
    const old = fs.existsSync(dir) ? `${tmp}.old` : null;
    if (old) fs.renameSync(dir, old);
    fs.renameSync(tmp, dir);
    if (old) fs.rmSync(old, { recursive: true, force: true });
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Test hook for the fault suite (tests/scripts/faults.test.ts): with BAYES_FAULT_PAUSE_MS set, a folder replacement
 * pauses
 * between writing its new copy and renaming it into place, after writing `<dir>.paused` beside it, so that a test can
 * kill the process inside that window. Unset (always, outside that test), it does nothing.
 */
function faultWindow(dir: string): void {
  const ms = Number(process.env.BAYES_FAULT_PAUSE_MS);
  if (!(ms > 0)) return;
  fs.writeFileSync(`${dir}.paused`, String(process.pid));
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  fs.rmSync(`${dir}.paused`, { force: true });
}
