/**
 * One way to read a command's options, shared by every CLI here (train, score, promote, experiment, charts, the
 * benchmarks' launcher and the avatars CLI): typed helpers over Node's own `util.parseArgs` (no dependency to add;
 * parseArgs reads the tokens, this file gives them types, ranges, choices, defaults and `--help`).
 *
 *   const { values, positionals } = parseCommand({
 *     name: "score", summary: "score new images", usage: "npm run score -- <folder or images…> [options]",
 *     positionals: { min: 1, name: "images" },
 *     options: { threshold: { type: "float", help: "…" }, workers: { type: "int", min: 1, default: 2, help: "…" } },
 *   });
 *   runMain(main);   // exit 0 on success, 1 when the run fails, 2 for bad usage (a UsageError)
 *
 * Every bad value fails before any work starts, with a message naming the option, the value and what is allowed.
 */
import * as os from "node:os";
import { parseArgs } from "node:util";

interface Base {
  help: string;
}
export type OptionSpec =
  | (Base & { type: "string"; default?: string })
  | (Base & { type: "boolean" })
  | (Base & { type: "int"; default?: number; min?: number; max?: number })
  | (Base & { type: "float"; default?: number; min?: number; max?: number; above?: number; below?: number })
  | (Base & { type: "choice"; choices: readonly string[]; default?: string })
  | (Base & { type: "ints"; default?: readonly number[]; min?: number })
  | (Base & { type: "size"; default?: string });

type ValueOf<S extends OptionSpec> = S extends { type: "boolean" }
  ? boolean
  : S extends { type: "int" | "float" }
    ? S extends { default: number }
      ? number
      : number | undefined
    : S extends { type: "ints" }
      ? S extends { default: readonly number[] }
        ? number[]
        : number[] | undefined
      : S extends { type: "size" }
        ? S extends { default: string }
          ? { height: number; width: number }
          : { height: number; width: number } | undefined
        : S extends { type: "choice"; choices: readonly (infer C)[] }
          ? S extends { default: string }
            ? C
            : C | undefined
          : S extends { default: string }
            ? string
            : string | undefined;

export type OptionValues<O extends Record<string, OptionSpec>> = { [K in keyof O]: ValueOf<O[K]> };

export interface CommandSpec<O extends Record<string, OptionSpec>> {
  name: string;
  summary: string;
  usage: string;
  options: O;
  positionals?: { min?: number; max?: number; name: string };
  examples?: readonly string[];
}

/** Bad usage: a wrong option, value or argument. Exit code 2. */
export class UsageError extends Error {}

const show = (v: unknown) => (v === undefined ? "" : Array.isArray(v) ? v.join(",") : String(v));

/** The help text of a command: usage, summary, every option with its type, range and default. */
export function helpText<O extends Record<string, OptionSpec>>(spec: CommandSpec<O>): string {
  const lines = [`usage: ${spec.usage}`, "", spec.summary, "", "options:"];
  const rows = Object.entries(spec.options).map(([name, o]) => {
    const kind =
      o.type === "boolean"
        ? ""
        : o.type === "choice"
          ? ` <${o.choices.join("|")}>`
          : o.type === "size"
            ? " <HxW>"
            : o.type === "ints"
              ? " <n,n,…>"
              : ` <${o.type === "string" ? "text" : o.type}>`;
    const range =
      o.type === "int" || o.type === "float"
        ? [
            o.min !== undefined ? `≥ ${o.min}` : "",
            "above" in o && o.above !== undefined ? `> ${o.above}` : "",
            o.max !== undefined ? `≤ ${o.max}` : "",
            "below" in o && o.below !== undefined ? `< ${o.below}` : "",
          ]
            .filter(Boolean)
            .join(", ")
        : "";
    const def = "default" in o && o.default !== undefined ? `default ${show(o.default)}` : "";
    const extra = [range, def].filter(Boolean).join("; ");
    return [`  --${name}${kind}`, `${o.help}${extra ? ` (${extra})` : ""}`];
  });
  const width = 30;
  const row = (a: string, b: string) => (a.length < width ? a.padEnd(width) + b : `${a}\n${" ".repeat(width)}${b}`);
  lines.push(...rows.map(([a, b]) => row(a, b)), row("  --help", "show this help and exit"));
  if (spec.examples?.length) lines.push("", "examples:", ...spec.examples.map((e) => `  ${e}`));
  return lines.join("\n");
}

function convert(name: string, o: OptionSpec, raw: string | boolean | undefined): unknown {
  const bad = (allowed: string) => new UsageError(`--${name} ${JSON.stringify(raw)}: ${allowed}`);
  if (o.type === "boolean") return raw === true;
  if (raw === undefined) {
    if (!("default" in o) || o.default === undefined) return undefined;
    raw = Array.isArray(o.default) ? o.default.join(",") : String(o.default);
  }
  const text = String(raw);
  switch (o.type) {
    case "string":
      if (text === "") throw bad("must not be empty");
      return text;
    case "choice":
      if (!o.choices.includes(text)) throw bad(`must be one of ${o.choices.join(", ")}`);
      return text;
    case "int":
    case "float": {
      const v = Number(text);
      const range = [
        o.min !== undefined ? `≥ ${o.min}` : "",
        o.type === "float" && o.above !== undefined ? `> ${o.above}` : "",
        o.max !== undefined ? `≤ ${o.max}` : "",
        o.type === "float" && o.below !== undefined ? `< ${o.below}` : "",
      ]
        .filter(Boolean)
        .join(" and ");
      const what = `must be ${o.type === "int" ? "a whole number" : "a number"}${range ? ` ${range}` : ""}`;
      if (text.trim() === "" || !Number.isFinite(v) || (o.type === "int" && !Number.isInteger(v))) throw bad(what);
      if ((o.min !== undefined && v < o.min) || (o.max !== undefined && v > o.max)) throw bad(what);
      if (
        o.type === "float" &&
        ((o.above !== undefined && !(v > o.above)) || (o.below !== undefined && !(v < o.below)))
      )
        throw bad(what);
      return v;
    }
    case "ints": {
      const parts = text.split(",");
      const min = o.min ?? 1;
      if (parts.some((p) => !/^\d+$/.test(p.trim()) || Number(p) < min))
        throw bad(`must be a comma-separated list of whole numbers ≥ ${min}, like 32,64,128`);
      return parts.map(Number);
    }
    case "size": {
      const m = /^(\d+)x(\d+)$/.exec(text);
      if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw bad("must look like HEIGHTxWIDTH, e.g. 32x48");
      return { height: Number(m[1]), width: Number(m[2]) };
    }
  }
}

/**
 * Parse `argv` against the command's options. `--help` prints the help and exits 0; anything wrong throws a
 * UsageError naming the option, the value and what is allowed (runMain turns it into exit code 2).
 */
export function parseCommand<O extends Record<string, OptionSpec>>(
  spec: CommandSpec<O>,
  argv: string[] = process.argv.slice(2),
): { values: OptionValues<O>; positionals: string[] } {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(helpText(spec));
    process.exit(0);
  }
  const options: Record<string, { type: "string" | "boolean" }> = {};
  for (const [name, o] of Object.entries(spec.options))
    options[name] = { type: o.type === "boolean" ? "boolean" : "string" };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(
      `${(e as Error).message.replace(/\. To specify a positional.*$/s, "")} ` +
        `(npm run ${spec.name} -- --help lists the options)`,
    );
  }
  const values = {} as Record<string, unknown>;
  for (const [name, o] of Object.entries(spec.options))
    values[name] = convert(name, o, parsed.values[name] as string | boolean | undefined);
  const pos = parsed.positionals;
  const p = spec.positionals ?? { min: 0, max: 0, name: "arguments" };
  if (pos.length < (p.min ?? 0))
    throw new UsageError(`name ${p.min === 1 ? "the" : `at least ${p.min}`} ${p.name}: ${spec.usage}`);
  if (p.max !== undefined && pos.length > p.max)
    throw new UsageError(
      `${p.max === 0 ? "no arguments are expected" : `at most ${p.max} ${p.name}`}, ` +
        `got ${pos.map((x) => JSON.stringify(x)).join(" ")}: ${spec.usage}`,
    );
  return { values: values as OptionValues<O>, positionals: pos };
}

/** Worker threads, "auto" = one per core; more than the cores is capped, with a message. */
export function workerCount(text: string, auto: number, say: (t: string) => void = console.log): number {
  const cores = os.availableParallelism();
  if (text === "auto") return auto;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`--workers ${JSON.stringify(text)}: must be "auto" or a whole number ≥ 1`);
  if (n > cores) {
    say(`--workers ${n} is more than the ${cores} cores here: using ${cores}`);
    return cores;
  }
  return n;
}

/** Run a command's main: exit 0 when it resolves, 2 for a UsageError, 1 for any other failure. */
export function runMain(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (e) => {
      const usage = e instanceof UsageError;
      console.error(`\n✖ ${usage ? "usage: " : ""}${e instanceof Error ? e.message : e}`);
      process.exit(usage ? 2 : 1);
    },
  );
}
