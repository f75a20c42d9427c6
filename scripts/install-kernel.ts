/**
 * Registers the project's own tslab as the Jupyter kernel "tslab" (for the current user).
 *
 *   npm run kernel
 *
 * `tslab install` needs IPython and a global tslab; writing kernel.json ourselves needs neither (see README).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { projectRoot } from "../lib/common/paths";

export function jupyterAvailable(): boolean {
  try {
    execFileSync("jupyter", ["nbconvert", "--version"], { stdio: "pipe" });
    return true;
  } catch {
    return false;
  }
}

export const JUPYTER_INSTALL_HINT =
  "Jupyter with nbconvert is needed to run the notebooks. On Debian/Ubuntu:\n" +
  "  sudo apt-get install -y --no-install-recommends jupyter-nbconvert jupyter-client\n" +
  "or with pip:  pip install nbconvert jupyter_client   (JupyterLab for the UI: pip install jupyterlab)";

export function installKernel(name = "tslab"): string {
  const tslabBin = path.join(projectRoot, "node_modules", "tslab", "bin", "tslab");
  if (!fs.existsSync(tslabBin)) throw new Error(`tslab is not installed at ${tslabBin}: run \`npm ci\` first`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tslab-kernel-"));
  const spec = {
    argv: [process.execPath, tslabBin, "kernel", "--config-path", "{connection_file}"],
    display_name: "TypeScript (tslab)",
    language: "typescript",
  };
  fs.writeFileSync(path.join(dir, "kernel.json"), JSON.stringify(spec, null, 2));
  execFileSync("jupyter", ["kernelspec", "install", "--user", "--name", name, dir], { stdio: "pipe" });
  fs.rmSync(dir, { recursive: true, force: true });
  return name;
}

if (require.main === module) {
  if (!jupyterAvailable()) {
    console.error(JUPYTER_INSTALL_HINT);
    process.exit(1);
  }
  console.log(`registered Jupyter kernel "${installKernel()}" -> ${path.join(projectRoot, "node_modules/tslab")}`);
}
