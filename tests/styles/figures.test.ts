import { test } from "node:test";
import * as assert from "node:assert/strict";
import {
  alphaGrid,
  alphaSweepChart,
  categorySummaryTable,
  entropyDrop,
  entropyTable,
  enumerationCheck,
  marginalChart,
  marginalTable,
  mleVsSmoothedChart,
  optionCountRows,
  ruleComparisonTable,
  sampledFrequencies,
  sampledFrequencyChart,
  scoredStylesTable,
  undefinedStyleTable,
} from "../../lib/styles/figures";
import {
  enumerateStyles,
  fitStyles,
  sampleStyles,
  styleGenerator,
  take,
  type DependsOn,
  type Style,
  type StyleData,
} from "../../lib/styles/styles";

// A two-category fixture small enough to compute by hand. With α = 1:
//   hair:   none 2/6 = 1/3, short 3/6 = 1/2, long 1/6       (counts 1, 2, 0)
//   colour: black 4/6 = 2/3, red 2/6 = 1/3                  (counts 3, 1)
// and the rule "no hair, no colour".
const DATA: StyleData = {
  source: "fixture",
  categories: [
    { name: "hair", options: ["none", "short", "long"], counts: [1, 2, 0] },
    { name: "colour", options: ["black", "red"], counts: [3, 1] },
  ],
};
const RULE: DependsOn = { category: "colour", parent: "hair", undefinedWhen: ["none"] };
const model = fitStyles(DATA, { alpha: 1 });
const ruled = fitStyles(DATA, { alpha: 1, dependsOn: RULE });

const close = (actual: unknown, expected: number[], what: string) => {
  const a = actual as number[];
  assert.equal(a.length, expected.length, `${what}: length`);
  a.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-12, `${what}[${i}]: ${v} ≠ ${expected[i]}`));
};
const h = (ps: number[]) => -ps.reduce((s, p) => s + p * Math.log2(p), 0);

test("optionCountRows and categorySummaryTable: counts per option, options and observations per category", () => {
  assert.deepEqual(optionCountRows(DATA), [
    { category: "hair", option: "none", count: 1 },
    { category: "hair", option: "short", count: 2 },
    { category: "hair", option: "long", count: 0 },
    { category: "colour", option: "black", count: 3 },
    { category: "colour", option: "red", count: 1 },
  ]);
  assert.deepEqual(categorySummaryTable(DATA), [
    ["category", "options K", "observations"],
    [
      ["hair", 3, 3],
      ["colour", 2, 4],
    ],
  ]);
});

test("mleVsSmoothedChart: MLE count / total beside (count + α) / (total + αK), per option on a two-level axis", () => {
  const [traces, options] = mleVsSmoothedChart(model);
  assert.equal(traces.length, 2);
  assert.deepEqual(traces[0].x, [
    ["hair", "hair", "hair", "colour", "colour"],
    ["none", "short", "long", "black", "red"],
  ]);
  close(traces[0].y, [1 / 3, 2 / 3, 0, 3 / 4, 1 / 4], "MLE");
  close(traces[1].y, [1 / 3, 1 / 2, 1 / 6, 2 / 3, 1 / 3], "smoothed");
  assert.equal(traces[1].name, "smoothed, α = 1");
  assert.equal(mleVsSmoothedChart(fitStyles(DATA, { alpha: 0.5 }))[0][1].name, "smoothed, α = 0.5");
  assert.equal((options.layout as { barmode: string }).barmode, "group");
});

test("scoredStylesTable: a column per category, probability and one in; ranked rows are labelled 1, 2, …", () => {
  const styles = [
    { style: { hair: "short", colour: "black" }, probability: 1 / 3 },
    { style: { hair: "long", colour: "red" }, probability: 1 / 18 },
    { style: { hair: "none", colour: null }, probability: 0.4 }, // made up: 1 / 0.4 = 2.5 rounds to 3
  ];
  const [columns, rows, options] = scoredStylesTable(model, styles, { caption: "two", digits: 3 });
  assert.deepEqual(columns, ["hair", "colour", "probability", "one in"]);
  assert.deepEqual(rows, [
    ["short", "black", 1 / 3, 3],
    ["long", "red", 1 / 18, 18],
    ["none", null, 0.4, 3],
  ]);
  assert.deepEqual(options, { caption: "two", digits: 3 });
  const ranked = scoredStylesTable(model, styles, { caption: "top", ranked: true })[2];
  assert.deepEqual(ranked, { caption: "top", index: [1, 2, 3] });
});

test("enumerationCheck: count, total probability and whether it is 1 up to rounding", () => {
  assert.deepEqual(
    enumerationCheck([
      { style: {}, probability: 0.5 },
      { style: {}, probability: 0.25 },
    ]),
    { styles: 2, total: 0.75, sumsToOne: false },
  );
  const check = enumerationCheck(enumerateStyles(model));
  assert.equal(check.styles, 6);
  assert.ok(Math.abs(check.total - 1) < 1e-12);
  assert.equal(check.sumsToOne, true);
  assert.equal(enumerationCheck([{ style: {}, probability: 1 + 1e-9 }]).sumsToOne, false);
  assert.equal(enumerationCheck([{ style: {}, probability: 1 + 1e-9 }], 1e-6).sumsToOne, true);
});

test("sampledFrequencies and sampledFrequencyChart: shares of the samples beside the model's probabilities", () => {
  const samples: Style[] = [
    { hair: "short", colour: "black" },
    { hair: "short", colour: "red" },
    { hair: "none", colour: "black" },
    { hair: "long", colour: "black" },
  ];
  const rows = sampledFrequencies(model, samples);
  assert.deepEqual(
    rows.map((r) => [r.category, r.option, r.frequency]),
    [
      ["hair", "none", 0.25],
      ["hair", "short", 0.5],
      ["hair", "long", 0.25],
      ["colour", "black", 0.75],
      ["colour", "red", 0.25],
    ],
  );
  close(
    rows.map((r) => r.probability),
    [1 / 3, 1 / 2, 1 / 6, 2 / 3, 1 / 3],
    "probability",
  );
  const [traces, options] = sampledFrequencyChart(model, samples);
  assert.equal(traces[0].name, "sampled frequency (N = 4)");
  assert.deepEqual(traces[0].y, [0.25, 0.5, 0.25, 0.75, 0.25]);
  close(traces[1].y, [1 / 3, 1 / 2, 1 / 6, 2 / 3, 1 / 3], "marked probability");
  assert.deepEqual((traces[0].x as string[][])[1], ["none", "short", "long", "black", "red"]);
  assert.equal(options.title, "sampled frequencies against the model");
  // under the rule a bald sample has no colour: the "none" option is counted too
  const ruledRows = sampledFrequencies(ruled, [{ hair: "none", colour: null }]);
  assert.deepEqual(ruledRows.at(-1), { category: "colour", option: null, frequency: 1, probability: 1 / 3 });
});

test("sampleStyles: the styles of styleGenerator, without probabilities", () => {
  const styles = sampleStyles(model, 7, 20);
  assert.equal(styles.length, 20);
  assert.deepEqual(
    styles,
    take(styleGenerator(model, 7), 20).map((s) => s.style),
  );
  assert.notDeepEqual(styles, sampleStyles(model, 8, 20));
});

test("alphaGrid: i / perUnit from 0 to max; alphaSweepChart: P(option) refitted at each α, and uniform 1/K", () => {
  assert.deepEqual(alphaGrid(1, 4), [0, 0.25, 0.5, 0.75, 1]);
  const grid = alphaGrid();
  assert.equal(grid.length, 101);
  assert.equal(grid[3], 3 / 10); // not 3 · 0.1 = 0.30000000000000004
  assert.equal(grid[100], 10);

  const [traces, options] = alphaSweepChart(DATA, "hair", ["long", "short"], [0, 1, 2]);
  assert.deepEqual(
    traces.map((t) => t.name),
    ["long (count 0)", "short (count 2)", "uniform 1/3"],
  );
  // long: (0 + α) / (3 + 3α); short: (2 + α) / (3 + 3α)
  close(traces[0].y, [0, 1 / 6, 2 / 9], "long");
  close(traces[1].y, [2 / 3, 1 / 2, 4 / 9], "short");
  assert.deepEqual(traces[2].x, [0, 2]);
  assert.deepEqual(traces[2].y, [1 / 3, 1 / 3]);
  assert.equal(options.title, "P(hair = option) against α");
  assert.throws(() => alphaSweepChart(DATA, "hair", ["bob"]), /unknown option "bob"/);
  assert.throws(() => alphaSweepChart(DATA, "hat", ["long"]), /unknown category "hat"/);
});

test("ruleComparisonTable: styles, total probability and bald styles, independent and with the rule", () => {
  const [columns, rows, options] = ruleComparisonTable(model, ruled);
  assert.deepEqual(columns, ["model", "number of styles", "sum of probabilities", "styles without hair"]);
  assert.deepEqual(
    rows.map((r) => [r[0], r[1], r[3]]),
    [
      ["independent", 6, 2],
      ["with HAIR_RULE", 5, 1],
    ],
  );
  close(
    rows.map((r) => r[2]),
    [1, 1],
    "sums",
  );
  assert.deepEqual(options, { digits: 17 });
  assert.throws(() => ruleComparisonTable(model, model), /one rule/);
});

test("marginalChart and marginalTable: the rule's marginal by total probability, with a (none) option", () => {
  // with the rule: P(black) = P(hair defined) · 2/3 = (1/2 + 1/6) · 2/3 = 4/9, P(red) = 2/9, P(none) = 1/3
  const [traces, options] = marginalChart(model, ruled, "colour");
  assert.deepEqual(traces[0].x, ["black", "red"]);
  close(traces[0].y, [2 / 3, 1 / 3], "independent");
  assert.deepEqual(traces[1].x, ["black", "red", "(none)"]);
  close(traces[1].y, [4 / 9, 2 / 9, 1 / 3], "with the rule");
  assert.equal(options.title, "marginal P(colour)");
  assert.equal(marginalChart(model, ruled, "colour", "marginal P(hair colour)")[1].title, "marginal P(hair colour)");

  const [columns, rows] = marginalTable(model, ruled, "colour", "hair colour");
  assert.deepEqual(columns, ["hair colour", "independent", "with HAIR_RULE"]);
  assert.deepEqual(
    rows.map((r) => r[0]),
    ["black", "red", "(none)"],
  );
  close(
    rows.map((r) => r[1]),
    [2 / 3, 1 / 3, 0],
    "independent column",
  );
  close(
    rows.map((r) => r[2]),
    [4 / 9, 2 / 9, 1 / 3],
    "rule column",
  );
  assert.equal(marginalTable(model, ruled, "colour")[0][0], "colour");
});

test("undefinedStyleTable: the bald style split over the colours, their sum, and the one style under the rule", () => {
  const [columns, rows, options] = undefinedStyleTable(model, ruled, { hair: "none", colour: null });
  assert.deepEqual(columns, ["style (none)", "probability"]);
  assert.deepEqual(
    rows.map((r) => r[0]),
    [
      "independent: black",
      "independent: red",
      "independent: sum over the two colours",
      "with HAIR_RULE: no hair colour",
      "with HAIR_RULE: black (impossible)",
    ],
  );
  close(
    rows.map((r) => r[1]),
    [2 / 9, 1 / 9, 1 / 3, 1 / 3, 0],
    "probabilities",
  );
  assert.deepEqual(options, { digits: 6 });
  assert.throws(() => undefinedStyleTable(model, ruled, { hair: "short", colour: null }), /must be one of none/);
});

test("entropyTable and entropyDrop: per category and in all; the rule removes P(no hair) · H(colour)", () => {
  const [columns, rows, options] = entropyTable(model, ruled);
  assert.deepEqual(columns, ["category", "entropy (bits)", "maximum log2 K"]);
  assert.deepEqual(
    rows.map((r) => r[0]),
    ["hair", "colour", "all, independent", "all, with HAIR_RULE (enumerated)"],
  );
  const hHair = h([1 / 3, 1 / 2, 1 / 6]);
  const hColour = h([2 / 3, 1 / 3]);
  // ruled styles: bald 1/3, then short/long with black/red: 1/2·2/3, 1/2·1/3, 1/6·2/3, 1/6·1/3
  const hRuled = h([1 / 3, 1 / 3, 1 / 6, 1 / 9, 1 / 18]);
  close(
    rows.map((r) => r[1]),
    [hHair, hColour, hHair + hColour, hRuled],
    "entropy",
  );
  close(
    rows.map((r) => r[2]),
    [Math.log2(3), 1, Math.log2(3) + 1, Math.log2(5)],
    "maximum",
  );
  assert.deepEqual(options, { digits: 5 });

  const drop = entropyDrop(model, ruled);
  close([drop.predicted], [(1 / 3) * hColour], "predicted");
  close([drop.measured], [hHair + hColour - hRuled], "measured");
  close([drop.measured], [drop.predicted], "measured = predicted");
});
