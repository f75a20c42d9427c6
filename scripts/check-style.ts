/**
 * The house rules the formatter cannot enforce: TypeScript lines of at most 120 columns (biome keeps code within
 * that, but leaves long strings and comments alone) and thin notebooks (code cells of at most 12 lines and 100
 * columns). `npm run lint` runs it after `biome check`; `npm test` runs `npm run lint` first.
 *
 *   node --import tsx scripts/check-style.ts                 # every tracked .ts file and notebook
 *   node --import tsx scripts/check-style.ts lib/styles notebooks/01_styles.ipynb   # only these paths
 *
 * Prints each breach as path:line (or path cell N) and exits 1 when there is one.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";

export const MAX_TS_COLUMNS = 120;
export const MAX_CELL_LINES = 12;
export const MAX_CELL_COLUMNS = 100;

/** Column count as an editor shows it: code points, not UTF-16 units (Cyrillic and symbols count once). */
const columns = (line: string) => [...line].length;

export function tsBreaches(file: string, text: string): string[] {
  const out: string[] = [];
  text.split("\n").forEach((line, i) => {
    if (columns(line) > MAX_TS_COLUMNS)
      out.push(`${file}:${i + 1}: ${columns(line)} columns (at most ${MAX_TS_COLUMNS})`);
  });
  return out;
}

export function notebookBreaches(file: string, text: string): string[] {
  const notebook = JSON.parse(text) as { cells: { cell_type: string; source: string[] | string }[] };
  const out: string[] = [];
  let n = 0;
  for (const cell of notebook.cells) {
    if (cell.cell_type !== "code") continue;
    n++;
    const lines = (Array.isArray(cell.source) ? cell.source.join("") : cell.source).replace(/\n$/, "").split("\n");
    if (lines.length > MAX_CELL_LINES)
      out.push(`${file} code cell ${n}: ${lines.length} lines (at most ${MAX_CELL_LINES})`);
    const wide = lines.map((l, i) => [columns(l), i + 1]).filter(([c]) => c > MAX_CELL_COLUMNS);
    for (const [c, line] of wide)
      out.push(`${file} code cell ${n}, line ${line}: ${c} columns (at most ${MAX_CELL_COLUMNS})`);
  }
  return out;
}

function main() {
  const args = process.argv.slice(2);
  const tracked = execFileSync(
    "git",
    ["ls-files", "--cached", "--others", "--exclude-standard", "--", ...(args.length ? args : ["."])],
    { encoding: "utf8" },
  )
    .split("\n")
    .filter((f) => (f.endsWith(".ts") || f.endsWith(".ipynb")) && fs.existsSync(f));
  const breaches = tracked.flatMap((f) => {
    const text = fs.readFileSync(f, "utf8");
    return f.endsWith(".ipynb") ? notebookBreaches(f, text) : tsBreaches(f, text);
  });
  for (const b of breaches) console.log(b);
  console.log(`check-style: ${tracked.length} files, ${breaches.length} breaches`);
  process.exitCode = breaches.length ? 1 : 0;
}

if (require.main === module) {
  process.stdout.on("error", () => {}); // piped into head: the reader left, nothing more to say
  main();
}
