/**
 * The tables and charts of notebook 01 (the Bayesian style generator), as data: a table is the argument list of
 * lib/report's `table()`, a chart the argument list of its `chart()`, so the notebook only spreads them in and the
 * unit tests read the numbers.
 *
 *   import { chart, table } from "../dist/lib/report";
 *   import { categorySummaryTable, mleVsSmoothedChart } from "../dist/lib/styles";
 *   tslab.display.html(table(...categorySummaryTable(data)));     // category, options K, observations
 *   tslab.display.html(chart(...mleVsSmoothedChart(model)));      // MLE and smoothed P(option), grouped bars
 *
 * The model comparisons (ruleComparisonTable, marginalChart, …) take an independent model and one fitted with a
 * rule (HAIR_RULE in the notebook); the labels name HAIR_RULE, the course rule.
 */
import type { Cell, ChartOptions, TableOptions } from "../report/display";
import {
  distributionEntropy,
  entropy,
  enumerateStyles,
  fitStyles,
  marginal,
  optionFrequencies,
  optionProbability,
  optionTable,
  styleProbability,
  type ScoredStyle,
  type Style,
  type StyleData,
  type StyleModel,
} from "./styles";

/** The arguments of lib/report's `table(columns, rows, options)`: show one with `table(...args)`. */
export type TableArgs = [columns: string[], rows: Cell[][], options?: TableOptions];

/** The arguments of lib/report's `chart(traces, options)`: show one with `chart(...args)`. */
export type ChartArgs = [traces: Record<string, unknown>[], options: ChartOptions];

/** Layout of the per-option bar charts: category and option on a two-level x axis, labels slanted. */
const OPTION_AXIS_LAYOUT = {
  xaxis: { type: "multicategory", tickangle: -60 },
  margin: { b: 170, t: 50, l: 60, r: 20 },
};

const sumOf = (xs: number[]) => xs.reduce((s, x) => s + x, 0);

/** The model's category, or an error naming the known ones. */
function category(model: StyleModel, name: string) {
  const c = model.categories.find((c) => c.name === name);
  if (!c) throw new Error(`unknown category "${name}" (categories: ${model.categories.map((c) => c.name).join(", ")})`);
  return c;
}

/** The one rule of a model fitted with a rule (HAIR_RULE); an error for an independent model. */
function ruleOf(ruled: StyleModel) {
  if (ruled.rules.length !== 1) throw new Error(`expected a model fitted with one rule, got ${ruled.rules.length}`);
  return ruled.rules[0];
}

// ---------------------------------------------------------------------------------------------------------------
// The data and the per-option probabilities

/** One row per option with its observed count, in data order: the rows of a danfo DataFrame of the counts. */
export function optionCountRows(data: StyleData): { category: string; option: string; count: number }[] {
  return data.categories.flatMap((c) =>
    c.options.map((option, i) => ({ category: c.name, option, count: c.counts[i] })),
  );
}

/** Per category: its number of options K and of observations (the sum of its counts). */
export function categorySummaryTable(data: StyleData): TableArgs {
  return [
    ["category", "options K", "observations"],
    data.categories.map((c) => [c.name, c.options.length, sumOf(c.counts)]),
  ];
}

/** Grouped bars per option: the plain MLE count / total beside the smoothed probability (the model's α). */
export function mleVsSmoothedChart(model: StyleModel): ChartArgs {
  const rows = optionTable(model);
  const optionAxis = [rows.map((r) => r.category), rows.map((r) => r.option)];
  return [
    [
      { type: "bar", name: "MLE (count / total)", x: optionAxis, y: rows.map((r) => r.mle) },
      { type: "bar", name: `smoothed, α = ${model.alpha}`, x: optionAxis, y: rows.map((r) => r.probability) },
    ],
    {
      title: "MLE vs smoothed probability, per category",
      yTitle: "P(option)",
      height: 520,
      layout: { barmode: "group", ...OPTION_AXIS_LAYOUT },
    },
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// Styles

/**
 * Scored styles as a table: one column per category, then the probability and "one in" (1 / probability, rounded).
 * `ranked: true` labels the rows 1, 2, 3, … (for a top-k list); the other options go to `table()`.
 */
export function scoredStylesTable(
  model: StyleModel,
  styles: ScoredStyle[],
  options: TableOptions & { ranked?: boolean } = {},
): TableArgs {
  const { ranked, ...tableOptions } = options;
  const columns = [...model.categories.map((c) => c.name), "probability", "one in"];
  const rows = styles.map((s) => [...Object.values(s.style), s.probability, Math.round(1 / s.probability)]);
  return [columns, rows, ranked ? { ...tableOptions, index: styles.map((_, i) => i + 1) } : tableOptions];
}

/** How many styles, their total probability and whether it is 1 up to rounding (|total − 1| < tolerance). */
export function enumerationCheck(
  styles: ScoredStyle[],
  tolerance = 1e-12,
): { styles: number; total: number; sumsToOne: boolean } {
  const total = sumOf(styles.map((s) => s.probability));
  return { styles: styles.length, total, sumsToOne: Math.abs(total - 1) < tolerance };
}

// ---------------------------------------------------------------------------------------------------------------
// Sampled frequencies

export interface SampledFrequency {
  category: string;
  option: string | null;
  /** share of the sampled styles with this option */
  frequency: number;
  /** the model's marginal probability of the option */
  probability: number;
}

/** Every category's optionFrequencies in one list, each row naming its category. */
export function sampledFrequencies(model: StyleModel, samples: Style[]): SampledFrequency[] {
  return model.categories.flatMap((c) =>
    optionFrequencies(model, samples, c.name).map((r) => ({
      category: c.name,
      option: r.option,
      frequency: r.frequency,
      probability: r.probability,
    })),
  );
}

/** Bars of the sampled frequency per option with the model probability marked on each (a black tick). */
export function sampledFrequencyChart(model: StyleModel, samples: Style[]): ChartArgs {
  const freq = sampledFrequencies(model, samples);
  const freqAxis = [freq.map((r) => r.category), freq.map((r) => r.option)];
  return [
    [
      {
        type: "bar",
        name: `sampled frequency (N = ${samples.length})`,
        x: freqAxis,
        y: freq.map((r) => r.frequency),
      },
      {
        type: "scatter",
        mode: "markers",
        name: "model probability",
        x: freqAxis,
        y: freq.map((r) => r.probability),
        marker: { symbol: "line-ew-open", size: 18, color: "black" },
      },
    ],
    { title: "sampled frequencies against the model", yTitle: "share", height: 520, layout: OPTION_AXIS_LAYOUT },
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// The effect of α

/** α = 0, 1/perUnit, 2/perUnit, …, max (each i / perUnit, so 0.3 is 3 / 10, not 3 · 0.1). */
export function alphaGrid(max = 10, perUnit = 10): number[] {
  return Array.from({ length: Math.round(max * perUnit) + 1 }, (_, i) => i / perUnit);
}

/**
 * P(category = option) against α for some options of one category (the model refitted at every α), with the
 * uniform 1/K they tend to as a dotted line.
 */
export function alphaSweepChart(
  data: StyleData,
  categoryName: string,
  options: string[],
  alphas = alphaGrid(),
): ChartArgs {
  const c = data.categories.find((c) => c.name === categoryName);
  if (!c) throw new Error(`unknown category "${categoryName}" in ${data.source}`);
  const curves = options.map((option) => {
    if (!c.options.includes(option)) throw new Error(`unknown option "${option}" in category "${c.name}"`);
    return {
      type: "scatter",
      mode: "lines",
      name: `${option} (count ${c.counts[c.options.indexOf(option)]})`,
      x: alphas,
      y: alphas.map((alpha) => optionProbability(fitStyles(data, { alpha }), c.name, option)),
    };
  });
  const k = c.options.length;
  const uniform = {
    type: "scatter",
    mode: "lines",
    name: `uniform 1/${k}`,
    x: [alphas[0], alphas[alphas.length - 1]],
    y: [1 / k, 1 / k],
    line: { dash: "dot", color: "grey" },
  };
  return [[...curves, uniform], { title: `P(${c.name} = option) against α`, xTitle: "α", yTitle: "probability" }];
}

// ---------------------------------------------------------------------------------------------------------------
// The rule against the independent model

/**
 * Both models side by side: number of styles, their total probability and how many have the rule's parent option
 * that leaves the child undefined ("styles without hair" for HAIR_RULE). 17 digits: the sums show their rounding.
 */
export function ruleComparisonTable(model: StyleModel, ruled: StyleModel): TableArgs {
  const rule = ruleOf(ruled);
  const row = (label: string, styles: ScoredStyle[]): Cell[] => [
    label,
    styles.length,
    sumOf(styles.map((s) => s.probability)),
    styles.filter((s) => rule.undefinedWhen.includes(s.style[rule.parent] as string)).length,
  ];
  return [
    ["model", "number of styles", "sum of probabilities", "styles without hair"],
    [row("independent", enumerateStyles(model)), row("with HAIR_RULE", enumerateStyles(ruled))],
    { digits: 17 },
  ];
}

const optionLabel = (o: string | null) => o ?? "(none)";

/** Grouped bars of one category's marginal, independent and with the rule (by total probability, with "(none)"). */
export function marginalChart(model: StyleModel, ruled: StyleModel, categoryName: string, title?: string): ChartArgs {
  const before = marginal(model, categoryName);
  const after = marginal(ruled, categoryName);
  return [
    [
      {
        type: "bar",
        name: "independent",
        x: before.map((r) => optionLabel(r.option)),
        y: before.map((r) => r.probability),
      },
      {
        type: "bar",
        name: "with HAIR_RULE (total probability)",
        x: after.map((r) => optionLabel(r.option)),
        y: after.map((r) => r.probability),
      },
    ],
    { title: title ?? `marginal P(${categoryName})`, yTitle: "probability", layout: { barmode: "group" } },
  ];
}

/** The same marginals as a table, one row per option of the ruled model ("(none)" is 0 for the independent one). */
export function marginalTable(model: StyleModel, ruled: StyleModel, categoryName: string, header?: string): TableArgs {
  const before = marginal(model, categoryName);
  const after = marginal(ruled, categoryName);
  return [
    [header ?? categoryName, "independent", "with HAIR_RULE"],
    after.map((r) => [
      optionLabel(r.option),
      before.find((b) => b.option === r.option)?.probability ?? 0,
      r.probability,
    ]),
  ];
}

const NUMBER_WORDS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"];

/**
 * One style whose parent option leaves the rule's category undefined (a bald style for HAIR_RULE), both ways:
 * the independent model splits it over every option of the category (one row each, then their sum); the ruled one
 * has it once, with the category null, and gives 0 to the same style with an option (the first one).
 * `style` names every category; its value for the rule's category is ignored.
 */
export function undefinedStyleTable(model: StyleModel, ruled: StyleModel, style: Style): TableArgs {
  const rule = ruleOf(ruled);
  if (!rule.undefinedWhen.includes(style[rule.parent] as string))
    throw new Error(`the style's "${rule.parent}" must be one of ${rule.undefinedWhen.join(", ")}`);
  const options = category(model, rule.category).options;
  const withOption = (o: string | null): Style => ({ ...style, [rule.category]: o });
  const split: Cell[][] = options.map((o) => [`independent: ${o}`, styleProbability(model, withOption(o))]);
  const shown = model.categories.filter((c) => c.name !== rule.category).map((c) => style[c.name]);
  return [
    [`style (${shown.join(", ")})`, "probability"],
    [
      ...split,
      [
        `independent: sum over the ${NUMBER_WORDS[options.length] ?? options.length} colours`,
        split.reduce((s, r) => s + (r[1] as number), 0),
      ],
      ["with HAIR_RULE: no hair colour", styleProbability(ruled, withOption(null))],
      [`with HAIR_RULE: ${options[0]} (impossible)`, styleProbability(ruled, withOption(options[0]))],
    ],
    { digits: 6 },
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// Entropy

/**
 * Entropy in bits beside its maximum: per category (log2 K), the whole independent model (Σ log2 K) and the ruled
 * model, enumerated (log2 of its number of styles).
 */
export function entropyTable(model: StyleModel, ruled: StyleModel): TableArgs {
  return [
    ["category", "entropy (bits)", "maximum log2 K"],
    [
      ...model.categories.map((c) => [c.name, distributionEntropy(c.probs), Math.log2(c.options.length)]),
      ["all, independent", entropy(model), model.categories.reduce((s, c) => s + Math.log2(c.options.length), 0)],
      ["all, with HAIR_RULE (enumerated)", entropy(ruled), Math.log2(enumerateStyles(ruled).length)],
    ],
    { digits: 5 },
  ];
}

/**
 * How much entropy the rule removes, measured (H(independent) − H(ruled)) and predicted: P(parent leaves the
 * category undefined) · H(category), e.g. P(нет волос) · H(hair colour). The two agree.
 */
export function entropyDrop(model: StyleModel, ruled: StyleModel): { measured: number; predicted: number } {
  const rule = ruleOf(ruled);
  const pUndefined = rule.undefinedWhen.reduce((s, o) => s + optionProbability(model, rule.parent, o), 0);
  return {
    measured: entropy(model) - entropy(ruled),
    predicted: pUndefined * distributionEntropy(category(model, rule.category).probs),
  };
}
