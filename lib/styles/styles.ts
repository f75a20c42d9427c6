/**
 * The Bayesian style generator: a style is one option per category (hair, hair colour, accessory, clothes,
 * clothes colour). From the course's counts it estimates each option's probability by MLE with Laplace (add-α)
 * smoothing, scores, samples, enumerates and ranks whole styles, and measures their entropy.
 *
 * Categories are independent unless a rule says otherwise. The course rule (`HAIR_RULE`) says hair colour is only
 * defined when there is hair: P(colour = null | hair = "нет волос") = 1, P(colour | other hair) = the smoothed
 * colour distribution. A style's probability is then the chain rule P(h) P(c | h) ..., and a marginal is the total
 * probability P(c) = Σ_h P(h) P(c | h).
 *
 *   import { loadStyles, fitStyles, styleProbability, styleGenerator, take, HAIR_RULE } from "../dist/lib/styles";
 *   const data = loadStyles();                                   // styles.json or styles.py, via resolveData("styles")
 *   const model = fitStyles(data, { alpha: 1 });                 // add `dependsOn: HAIR_RULE` for the hair rule
 *   styleProbability(model, { "прическа": "короткая прямые", "цвет волос": "черный", "аксесуар": "солнцезащитные очки",
 *     "одежда": "комбинезон", "цвет одежды": "белый" });          // 0.0004337453914552157
 *   take(styleGenerator(model, 42), 5);                          // five {style, probability}, the same for seed 42
 */
import { mulberry32 } from "../common/random";
import * as fs from "node:fs";
import * as path from "node:path";
import { resolveData } from "../common/paths";

// ---------------------------------------------------------------------------------------------------------------
// Data

/** One category: its options and how often each was observed (same order). */
export interface Category {
  name: string;
  options: string[];
  counts: number[];
}

/** Style data in category order; `source` names where it came from, for error messages. */
export interface StyleData {
  source: string;
  categories: Category[];
}

/** A style: category -> option; null where a rule leaves the category undefined (no hair, so no hair colour). */
export type Style = Record<string, string | null>;

export interface ScoredStyle {
  style: Style;
  probability: number;
}

/** A category that is only defined for some values of another: undefined (null) when `parent` is in `undefinedWhen`. */
export interface DependsOn {
  category: string;
  parent: string;
  undefinedWhen: string[];
}

/** The course rule: no hair ("нет волос") means no hair colour. */
export const HAIR_RULE: DependsOn = { category: "цвет волос", parent: "прическа", undefinedWhen: ["нет волос"] };

/** Checks one category and returns it; every message names the file and the category. */
function checkCategory(source: string, name: string, options: unknown[], counts: unknown[]): Category {
  const where = `${source}: category "${name}"`;
  if (options.length !== counts.length)
    throw new Error(`${where}: ${options.length} options but ${counts.length} counts (they must pair up, in order)`);
  if (options.length === 0) throw new Error(`${where}: has no options`);
  const seen = new Set<string>();
  options.forEach((option, i) => {
    if (typeof option !== "string")
      throw new Error(`${where}: option ${i + 1} must be a string, got ${JSON.stringify(option)}`);
    if (seen.has(option)) throw new Error(`${where}: option "${option}" appears twice`);
    seen.add(option);
    const count = counts[i];
    if (typeof count !== "number" || !Number.isInteger(count) || count < 0)
      throw new Error(
        `${where}, option "${option}": count must be a non-negative integer, got ${JSON.stringify(count)}`,
      );
  });
  return { name, options: options as string[], counts: counts as number[] };
}

/** Pairs `styles` (category -> options) with `styles_count` (category -> counts), as the course's styles.py does. */
function fromPairs(source: string, styles: [string, unknown][], counts: [string, unknown][]): StyleData {
  const countsByName = new Map(counts);
  const stylesByName = new Map(styles);
  for (const [name] of counts)
    if (!stylesByName.has(name))
      throw new Error(`${source}: unknown category "${name}" in styles_count (it is not in styles)`);
  for (const [name] of styles)
    if (!countsByName.has(name))
      throw new Error(`${source}: category "${name}" in styles has no counts in styles_count`);
  const categories = styles.map(([name, options]) => {
    const cs = countsByName.get(name);
    if (!Array.isArray(options)) throw new Error(`${source}: styles["${name}"] must be a list of option names`);
    if (!Array.isArray(cs)) throw new Error(`${source}: styles_count["${name}"] must be a list of counts`);
    return checkCategory(source, name, options, cs);
  });
  return finish(source, categories);
}

function finish(source: string, categories: Category[]): StyleData {
  if (categories.length === 0) throw new Error(`${source}: no categories`);
  return { source, categories };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Style data from JSON: `{category: [{option, count}, ...]}` (styles.json), or the two dicts of styles.py as JSON,
 * `{"styles": {category: [option, ...]}, "styles_count": {category: [count, ...]}}`.
 */
export function parseStylesJson(text: string, source = "styles.json"): StyleData {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`${source}: not valid JSON (${(e as Error).message})`);
  }
  if (!isRecord(value)) throw new Error(`${source}: expected an object {category: [{option, count}, ...]}`);
  if ("styles" in value || "styles_count" in value) {
    const { styles, styles_count } = value;
    if (!isRecord(styles) || !isRecord(styles_count))
      throw new Error(`${source}: "styles" and "styles_count" must both be objects {category: [...]}`);
    return fromPairs(source, Object.entries(styles), Object.entries(styles_count));
  }
  const categories = Object.entries(value).map(([name, entries]) => {
    if (!Array.isArray(entries)) throw new Error(`${source}: category "${name}" must be a list of {option, count}`);
    entries.forEach((e, i) => {
      if (!isRecord(e) || !("option" in e) || !("count" in e))
        throw new Error(
          `${source}: category "${name}", entry ${i + 1} must be an object {option, count}, got ${JSON.stringify(e)}`,
        );
    });
    const rows = entries as { option: unknown; count: unknown }[];
    return checkCategory(
      source,
      name,
      rows.map((e) => e.option),
      rows.map((e) => e.count),
    );
  });
  return finish(source, categories);
}

/** Style data from the course's styles.py: the dict literals `styles` and `styles_count`, parsed, never run. */
export function parseStylesPy(text: string, source = "styles.py"): StyleData {
  const names = parsePythonAssignments(text, source);
  const dict = (name: string): [string, unknown][] => {
    const v = names.get(name);
    if (v === undefined) throw new Error(`${source}: no assignment \`${name} = {...}\` found`);
    if (!(v instanceof PyDict)) throw new Error(`${source}: \`${name}\` must be a dict literal {category: [...]}`);
    return v.entries.map(([k, value]) => {
      if (typeof k !== "string")
        throw new Error(`${source}: \`${name}\` keys must be strings, got ${JSON.stringify(k)}`);
      return [k, value];
    });
  };
  return fromPairs(source, dict("styles"), dict("styles_count"));
}

/** Style data from a .json or .py file (by extension); the default is the project's styles data (lib/paths). */
export function loadStyles(file: string = resolveData("styles")): StyleData {
  const ext = path.extname(file).toLowerCase();
  if (ext !== ".json" && ext !== ".py") throw new Error(`${file}: unsupported style file (expected .json or .py)`);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8").replace(/^\uFEFF/, ""); // editors on Windows may save a byte-order mark
  } catch (e) {
    throw new Error(`${file}: cannot read style data (${(e as Error).message})`);
  }
  return ext === ".json" ? parseStylesJson(text, file) : parseStylesPy(text, file);
}

// ---------------------------------------------------------------------------------------------------------------
// A parser for Python literals. Written here because the file must not be executed and no npm package parses Python
// literals; it knows just what a data file needs: `name = value` statements whose values are dicts, lists, tuples,
// strings ('…' or "…", escapes, adjacent strings joined) and numbers, with # comments and trailing commas.

/** A Python dict literal: its entries in source order. */
export class PyDict {
  constructor(readonly entries: [PyValue, PyValue][]) {}
}
export type PyValue = string | number | PyValue[] | PyDict;

const ESCAPES: Record<string, string> = {
  n: "\n",
  t: "\t",
  r: "\r",
  "\\": "\\",
  "'": "'",
  '"': '"',
  "0": "\0",
  a: "\x07",
  b: "\b",
  f: "\f",
  v: "\v",
};

/** Every top-level `name = literal` assignment of a Python source, in order; anything else is a clear error. */
export function parsePythonAssignments(text: string, source = "<python>"): Map<string, PyValue> {
  let pos = 0;
  let depth = 0; // inside brackets newlines are plain whitespace, outside they end a statement

  function fail(message: string, at = pos): never {
    const before = text.slice(0, at).split("\n");
    throw new Error(`${source}:${before.length}:${before[before.length - 1].length + 1}: ${message}`);
  }
  const found = () => (pos < text.length ? JSON.stringify(text.slice(pos, pos + 12)) : "end of file");
  const skip = () => {
    while (pos < text.length) {
      const c = text[pos];
      if (c === " " || c === "\t" || c === "\r" || (c === "\n" && depth > 0)) pos++;
      else if (c === "\\" && text[pos + 1] === "\n") pos += 2;
      else if (c === "#") while (pos < text.length && text[pos] !== "\n") pos++;
      else break;
    }
  };
  const expect = (c: string) => {
    skip();
    if (text[pos] !== c) fail(`expected "${c}", found ${found()}`);
    pos++;
  };

  const string = (): string => {
    const quote = text[pos];
    if (text.startsWith(quote.repeat(3), pos)) fail("triple-quoted strings are not supported");
    const start = pos++;
    let out = "";
    while (text[pos] !== quote) {
      if (pos >= text.length || text[pos] === "\n") fail("unterminated string", start);
      if (text[pos] !== "\\") {
        out += text[pos++];
        continue;
      }
      const e = text[pos + 1];
      const hex = { x: 2, u: 4, U: 8 }[e];
      if (hex) {
        const digits = text.slice(pos + 2, pos + 2 + hex);
        if (!/^[0-9a-fA-F]+$/.test(digits) || digits.length !== hex) fail(`bad \\${e} escape`);
        out += String.fromCodePoint(parseInt(digits, 16));
        pos += 2 + hex;
      } else if (e === "\n")
        pos += 2; // a backslash-newline inside a string continues the line
      else {
        out += ESCAPES[e] ?? `\\${e}`; // Python keeps unknown escapes as written
        pos += 2;
      }
    }
    pos++;
    return out;
  };

  const value = (): PyValue => {
    skip();
    const c = text[pos];
    if (c === "'" || c === '"') {
      let s = string();
      for (skip(); text[pos] === "'" || text[pos] === '"'; skip()) s += string(); // 'a' 'b' == 'ab'
      return s;
    }
    const number = /^[-+]?\s*(\d[\d_]*)(\.\d*)?([eE][-+]?\d+)?/.exec(text.slice(pos, pos + 64));
    if (number) {
      pos += number[0].length;
      return Number(number[0].replace(/[\s_]/g, "")) + 0; // + 0 turns -0 into 0, as in Python
    }
    if (c === "{") return dict();
    if (c === "[" || c === "(") return list(c === "[" ? "]" : ")");
    return fail(`expected a literal (dict, list, string or number), found ${found()}`);
  };

  /** Comma-separated items up to `close`; a trailing comma is allowed. */
  const items = (close: string, item: () => void) => {
    depth++;
    pos++;
    for (skip(); text[pos] !== close; skip()) {
      item();
      skip();
      if (text[pos] === ",") pos++;
      else if (text[pos] !== close) fail(`expected "," or "${close}", found ${found()}`);
    }
    pos++;
    depth--;
  };
  const list = (close: string): PyValue[] => {
    const out: PyValue[] = [];
    items(close, () => out.push(value()));
    return out;
  };
  const dict = (): PyDict => {
    const entries: [PyValue, PyValue][] = [];
    items("}", () => {
      const at = pos;
      const key = value();
      if (entries.some(([k]) => k === key)) fail(`duplicate key ${JSON.stringify(key)}`, at);
      expect(":");
      entries.push([key, value()]);
    });
    return new PyDict(entries);
  };

  const names = new Map<string, PyValue>();
  while (true) {
    for (skip(); text[pos] === "\n" || text[pos] === ";"; skip()) pos++;
    if (pos >= text.length) return names;
    const name = /^[A-Za-z_]\w*/.exec(text.slice(pos, pos + 256));
    if (!name) fail(`expected \`name = literal\`, found ${found()}`);
    pos += name[0].length;
    skip();
    if (text[pos] !== "=" || text[pos + 1] === "=")
      fail(`only \`name = literal\` assignments are supported, found ${found()} after "${name[0]}"`);
    pos++;
    names.set(name[0], value());
    skip();
    if (pos < text.length && text[pos] !== "\n" && text[pos] !== ";")
      fail(`unexpected ${found()} after the value of "${name[0]}"`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The model

export interface ModelCategory extends Category {
  total: number;
  /** Smoothed P(option) = (count + α) / (total + α·K); for a dependent category, given that it is defined. */
  probs: number[];
  /** Index of the category this one depends on, or -1. */
  parent: number;
  /** Parent options for which this category is undefined (null). */
  undefinedWhen: ReadonlySet<string>;
}

export interface StyleModel {
  alpha: number;
  categories: ModelCategory[];
  rules: DependsOn[];
  /** Category indices with every parent before its dependants (for sampling and enumeration). */
  order: number[];
}

export interface ModelOptions {
  /** Laplace smoothing: α added to every count (default 1; 0 is the plain MLE). */
  alpha?: number;
  /** Rules making categories depend on others, e.g. HAIR_RULE. */
  dependsOn?: DependsOn | DependsOn[];
}

/** Fits the smoothed per-option probabilities and checks the rules against the data. */
export function fitStyles(data: StyleData, options: ModelOptions = {}): StyleModel {
  const alpha = options.alpha ?? 1;
  if (!Number.isFinite(alpha) || alpha < 0) throw new Error(`alpha must be a finite number >= 0, got ${alpha}`);
  const rules = options.dependsOn === undefined ? [] : ([] as DependsOn[]).concat(options.dependsOn);
  const index = new Map(data.categories.map((c, i) => [c.name, i]));

  const categories: ModelCategory[] = data.categories.map((c) => {
    const total = c.counts.reduce((s, n) => s + n, 0);
    const denominator = total + alpha * c.options.length;
    if (denominator === 0)
      throw new Error(
        `${data.source}: category "${c.name}" has zero total count and alpha = 0, ` +
          "so its probabilities are 0/0; use alpha > 0",
      );
    return {
      ...c,
      total,
      probs: c.counts.map((n) => (n + alpha) / denominator),
      parent: -1,
      undefinedWhen: new Set<string>(),
    };
  });

  for (const rule of rules) {
    const where = `rule "${rule.category}" depends on "${rule.parent}"`;
    const child = index.get(rule.category);
    const parent = index.get(rule.parent);
    if (child === undefined) throw new Error(`${where}: no category "${rule.category}" in ${data.source}`);
    if (parent === undefined) throw new Error(`${where}: no category "${rule.parent}" in ${data.source}`);
    if (child === parent) throw new Error(`${where}: a category cannot depend on itself`);
    if (categories[child].parent !== -1) throw new Error(`${where}: "${rule.category}" already has a rule`);
    if (rules.some((r) => r.category === rule.parent))
      throw new Error(`${where}: "${rule.parent}" depends on another category itself (chains are not supported)`);
    for (const option of rule.undefinedWhen)
      if (!categories[parent].options.includes(option))
        throw new Error(
          `${where}: "${option}" is not an option of "${rule.parent}" ` +
            `(options: ${categories[parent].options.join(", ")})`,
        );
    categories[child] = { ...categories[child], parent, undefinedWhen: new Set(rule.undefinedWhen) };
  }
  // Category order, except that a parent listed after its dependant moves just before it.
  const order: number[] = [];
  for (const [i, c] of categories.entries()) {
    if (c.parent !== -1 && !order.includes(c.parent)) order.push(c.parent);
    if (!order.includes(i)) order.push(i);
  }
  return { alpha, categories, rules, order };
}

function categoryOf(model: StyleModel, name: string): ModelCategory {
  const c = model.categories.find((c) => c.name === name);
  if (!c) throw new Error(`unknown category "${name}" (categories: ${model.categories.map((c) => c.name).join(", ")})`);
  return c;
}

function optionIndex(c: ModelCategory, option: string): number {
  const i = c.options.indexOf(option);
  if (i < 0) throw new Error(`unknown option "${option}" in category "${c.name}" (options: ${c.options.join(", ")})`);
  return i;
}

/** Smoothed probability of one option (for a dependent category: given that it is defined). */
export function optionProbability(model: StyleModel, category: string, option: string): number {
  const c = categoryOf(model, category);
  return c.probs[optionIndex(c, option)];
}

export interface OptionRow {
  category: string;
  option: string;
  count: number;
  /** count / total, the unsmoothed MLE (NaN when the category total is 0). */
  mle: number;
  /** (count + α) / (total + α·K). */
  probability: number;
}

/** One row per option: count, plain MLE and smoothed probability. */
export function optionTable(model: StyleModel): OptionRow[] {
  return model.categories.flatMap((c) =>
    c.options.map((option, i) => ({
      category: c.name,
      option,
      count: c.counts[i],
      mle: c.counts[i] / c.total,
      probability: c.probs[i],
    })),
  );
}

/** P(category = value | parent value already in the style): the factor the chain rule multiplies. */
function factor(model: StyleModel, c: ModelCategory, style: Style): number {
  const value = style[c.name];
  if (c.parent !== -1) {
    const undefinedHere = c.undefinedWhen.has(style[model.categories[c.parent].name] as string);
    if (value === null) return undefinedHere ? 1 : 0;
    optionIndex(c, value);
    if (undefinedHere) return 0; // an option where the rule says there is none: an impossible style
  } else if (value === null) {
    throw new Error(
      `category "${c.name}" has no option in the style (null is only allowed where a rule leaves it undefined)`,
    );
  }
  return c.probs[optionIndex(c, value)];
}

function checkKeys(model: StyleModel, style: Style): void {
  for (const c of model.categories)
    if (!(c.name in style)) throw new Error(`the style has no "${c.name}" (a style names one option per category)`);
  for (const key of Object.keys(style)) categoryOf(model, key);
}

/**
 * Probability of a whole style: the product of its options' probabilities, multiplied in category order; with rules,
 * the chain rule P(parent) P(child | parent). Unknown categories or options are errors; impossible styles have 0.
 */
export function styleProbability(model: StyleModel, style: Style): number {
  checkKeys(model, style);
  let p = 1;
  for (const c of model.categories) p *= factor(model, c, style);
  return p;
}

/** A compact label: the options in category order, "—" where undefined. */
export function formatStyle(style: Style): string {
  return Object.values(style)
    .map((v) => v ?? "—")
    .join(", ");
}

// ---------------------------------------------------------------------------------------------------------------
// Sampling

export { mulberry32 } from "../common/random";

/** Inverse-CDF draw of an index; options with probability 0 are never drawn. */
function draw(probs: number[], u: number): number {
  let cumulative = 0;
  let last = -1;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i] === 0) continue;
    cumulative += probs[i];
    last = i;
    if (u < cumulative) return i;
  }
  return last; // u fell beyond a cumulative sum that rounded to just under 1
}

/** One random style (parents are drawn before the categories that depend on them); keys in category order. */
export function sampleStyle(model: StyleModel, random: () => number): Style {
  const values: (string | null)[] = new Array(model.categories.length);
  for (const i of model.order) {
    const c = model.categories[i];
    values[i] = c.parent !== -1 && c.undefinedWhen.has(values[c.parent]!) ? null : c.options[draw(c.probs, random())];
  }
  return Object.fromEntries(model.categories.map((c, i) => [c.name, values[i]]));
}

/** An endless, reproducible stream of styles with their probabilities: the same seed gives the same styles. */
export function* styleGenerator(model: StyleModel, seed: number): Generator<ScoredStyle, never> {
  const random = mulberry32(seed);
  while (true) {
    const style = sampleStyle(model, random);
    yield { style, probability: styleProbability(model, style) };
  }
}

/** The first n styles of styleGenerator(model, seed), without their probabilities. */
export function sampleStyles(model: StyleModel, seed: number, n: number): Style[] {
  return take(styleGenerator(model, seed), n).map((s) => s.style);
}

/** The first n items of an iterable (e.g. of styleGenerator). */
export function take<T>(items: Iterable<T>, n: number): T[] {
  const out: T[] = [];
  if (n <= 0) return out;
  for (const item of items) if (out.push(item) >= n) break;
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Enumeration, ranking, marginals, entropy

/**
 * Every possible style with its probability (7·6·3·4·8 = 4,032 for the course data; 3,552 with HAIR_RULE, where the
 * styles without hair appear once, with hair colour null). The probabilities sum to 1.
 */
export function enumerateStyles(model: StyleModel): ScoredStyle[] {
  const out: ScoredStyle[] = [];
  const values: (string | null)[] = new Array(model.categories.length);
  const visit = (k: number) => {
    if (k === model.order.length) {
      const style: Style = Object.fromEntries(model.categories.map((c, i) => [c.name, values[i]]));
      out.push({ style, probability: styleProbability(model, style) });
      return;
    }
    const i = model.order[k];
    const c = model.categories[i];
    const choices = c.parent !== -1 && c.undefinedWhen.has(values[c.parent]!) ? [null] : c.options;
    for (const v of choices) {
      values[i] = v;
      visit(k + 1);
    }
  };
  visit(0);
  return out;
}

/** The k most (or least) likely styles, ties in enumeration order (enumerates and sorts all: ~5 ms for 4,032). */
export function topStyles(model: StyleModel, k: number, which: "most" | "least" = "most"): ScoredStyle[] {
  const sign = which === "most" ? -1 : 1;
  return enumerateStyles(model)
    .sort((a, b) => sign * (a.probability - b.probability))
    .slice(0, Math.max(0, k));
}

/**
 * Marginal distribution of one category. For a dependent category, by total probability:
 * P(c) = Σ_h P(h) P(c | h), with option null for "undefined" (P(null) = P(parent in undefinedWhen)).
 */
export function marginal(model: StyleModel, category: string): { option: string | null; probability: number }[] {
  const c = categoryOf(model, category);
  if (c.parent === -1) return c.options.map((option, i) => ({ option, probability: c.probs[i] }));
  const parent = model.categories[c.parent];
  // Σ_h P(h) P(c | h), where P(c | h) is the smoothed distribution when h defines the category, and P(null | h) = 1
  // when it does not.
  const defined = parent.options.map((h) => !c.undefinedWhen.has(h));
  const rows: { option: string | null; probability: number }[] = c.options.map((option, i) => ({
    option,
    probability: parent.probs.reduce((s, ph, j) => s + (defined[j] ? ph * c.probs[i] : 0), 0),
  }));
  const pUndefined = parent.probs.reduce((s, ph, j) => s + (defined[j] ? 0 : ph), 0);
  return c.undefinedWhen.size > 0 ? [...rows, { option: null, probability: pUndefined }] : rows;
}

/** Shannon entropy in bits of a discrete distribution (0·log 0 = 0). */
export function distributionEntropy(probs: number[]): number {
  return probs.reduce((h, p) => (p > 0 ? h - p * Math.log2(p) : h), 0);
}

/**
 * Entropy (bits) of the style distribution: the sum of the categories' entropies when they are independent,
 * by enumeration of every style when a rule ties them.
 */
export function entropy(model: StyleModel): number {
  if (model.rules.length === 0) return model.categories.reduce((h, c) => h + distributionEntropy(c.probs), 0);
  return distributionEntropy(enumerateStyles(model).map((s) => s.probability));
}

// ---------------------------------------------------------------------------------------------------------------
// Checking a sampler against the model

/**
 * Upper tail of the chi-square distribution, P(X² >= x) with df degrees of freedom: the regularized gamma
 * Q(df/2, x/2) by its series or continued fraction (Numerical Recipes §6.2). Written here because no statistics
 * package is a dependency; exact for the small df (≤ 10) a category gives.
 */
export function chiSquarePValue(x: number, df: number): number {
  if (!Number.isInteger(df) || df < 1) throw new Error(`degrees of freedom must be a positive integer, got ${df}`);
  if (x <= 0) return 1;
  if (!Number.isFinite(x)) return 0;
  const a = df / 2;
  const z = x / 2;
  // ln Γ(a) for a = df/2, exact by Γ(1) = 1, Γ(1/2) = √π and Γ(a + 1) = a Γ(a).
  let logGammaA = Number.isInteger(a) ? 0 : 0.5 * Math.log(Math.PI);
  for (let t = Number.isInteger(a) ? 1 : 0.5; t < a; t++) logGammaA += Math.log(t);
  const front = Math.exp(-z + a * Math.log(z) - logGammaA);
  if (z < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 1000 && term > sum * 1e-16; n++) sum += term *= z / (a + n);
    return Math.max(0, 1 - front * sum);
  }
  const tiny = 1e-300;
  let b = z + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    d = 1 / (Math.abs(d) < tiny ? tiny : d);
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    h *= d * c;
    if (Math.abs(d * c - 1) < 1e-16) break;
  }
  return front * h;
}

export interface FrequencyRow {
  option: string | null;
  observed: number;
  /** observed / number of styles */
  frequency: number;
  /** the model's marginal probability */
  probability: number;
}

/** How often each option of a category occurs in sampled styles, beside the model's marginal probability. */
export function optionFrequencies(model: StyleModel, styles: Style[], category: string): FrequencyRow[] {
  const rows = marginal(model, category);
  const observed = new Map(rows.map((r) => [r.option, 0]));
  for (const s of styles) {
    const v = s[category];
    if (!observed.has(v)) throw new Error(`sampled style has "${v}" for "${category}", which the model cannot produce`);
    observed.set(v, observed.get(v)! + 1);
  }
  return rows.map((r) => ({
    option: r.option,
    observed: observed.get(r.option)!,
    frequency: observed.get(r.option)! / styles.length,
    probability: r.probability,
  }));
}

export interface CategoryCheck {
  category: string;
  statistic: number;
  df: number;
  pValue: number;
  pass: boolean;
}

/**
 * Pearson's chi-square goodness of fit, per category, of sampled styles against the model's marginals.
 * A category passes when its p-value is at least minPValue (default 0.001). Options the model gives probability 0
 * must never appear (an infinite statistic).
 */
export function frequencyCheck(model: StyleModel, styles: Style[], minPValue = 1e-3): CategoryCheck[] {
  if (styles.length === 0) throw new Error("frequencyCheck needs at least one sampled style");
  return model.categories.map((c) => {
    const rows = optionFrequencies(model, styles, c.name);
    let statistic = 0;
    let cells = 0;
    for (const r of rows) {
      const expected = r.probability * styles.length;
      if (expected === 0) statistic += r.observed > 0 ? Infinity : 0;
      else {
        statistic += (r.observed - expected) ** 2 / expected;
        cells++;
      }
    }
    const df = cells - 1;
    // One possible option leaves nothing to test: it passes unless an impossible option showed up.
    const pValue = df > 0 ? chiSquarePValue(statistic, df) : statistic === Infinity ? 0 : 1;
    return { category: c.name, statistic, df, pValue, pass: pValue >= minPValue };
  });
}
