import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  HAIR_RULE,
  PyDict,
  chiSquarePValue,
  distributionEntropy,
  entropy,
  enumerateStyles,
  fitStyles,
  formatStyle,
  frequencyCheck,
  loadStyles,
  marginal,
  mulberry32,
  optionFrequencies,
  optionProbability,
  optionTable,
  parsePythonAssignments,
  parseStylesJson,
  parseStylesPy,
  sampleStyle,
  styleGenerator,
  styleProbability,
  take,
  topStyles,
  type Style,
  type StyleData,
  type StyleModel,
} from "../../lib/styles/styles";
import { resolveData } from "../../lib/common/paths";
import { courseData } from "../helpers/data";

const HAIR = "прическа";
const COLOUR = "цвет волос";
const NO_HAIR = "нет волос";
const STYLES = courseData("styles");
const NEEDS_DATA = { skip: STYLES.skip };
const course = (STYLES.path ? loadStyles(STYLES.path) : null)!;
const plain = (course ? fitStyles(course) : null)!;
const ruled = (course ? fitStyles(course, { dependsOn: HAIR_RULE }) : null)!;

const style = (
  hair: string,
  colour: string | null,
  accessory: string,
  clothes: string,
  clothesColour: string,
): Style => ({
  [HAIR]: hair,
  [COLOUR]: colour,
  аксесуар: accessory,
  одежда: clothes,
  "цвет одежды": clothesColour,
});
const BLACK_WHITE = style("короткая прямые", "черный", "солнцезащитные очки", "комбинезон", "белый");
const PINK_PINK = style("короткая прямые", "пастельный розовый", "солнцезащитные очки", "комбинезон", "розовый");

const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "styles-test-"));
const write = (name: string, text: string) => {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, text);
  return file;
};

/** Python source text for a value, in the layout of the course's styles.py. */
function py(v: unknown, indent = ""): string {
  if (typeof v === "string") return `'${v.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
  if (typeof v === "number") return String(v);
  const inner = `${indent}    `;
  if (Array.isArray(v)) return `[\n${v.map((x) => inner + py(x, inner)).join(",\n")}\n${indent}]`;
  const entries = Object.entries(v as object).map(([k, x]) => `${inner}${py(k)}:${py(x, inner)}`);
  if (entries.length === 0) return "{}";
  return `{\n${entries.join(",\n")},\n${indent}}`;
}
const pyFile = (styles: object, counts: object) => `styles = ${py(styles)}\n\nstyles_count = ${py(counts)}\n`;

/** The course's styles.py, rebuilt from styles.json: same layout, including its mix of trailing commas. */
function coursePy(data: StyleData): string {
  const block = (name: string, items: (c: StyleData["categories"][number]) => string[]) =>
    `${name} = {\n` +
    data.categories
      .map((c, i) => {
        const trailing = i > 0 && i < data.categories.length - 1 ? "," : "";
        return `    '${c.name}':[\n${items(c)
          .map((x) => `        ${x}`)
          .join(",\n")}${trailing}\n    ],\n`;
      })
      .join("") +
    "}";
  const styles = block("styles", (c) => c.options.map((o) => `'${o}'`));
  return `${styles}\n\n${block("styles_count", (c) => c.counts.map(String))}`;
}

// --- the figures --------------------------------------------------------------------------------------------

test("reproduces the figures exactly (α = 1, no rule)", NEEDS_DATA, () => {
  assert.equal(optionProbability(plain, HAIR, "короткая прямые"), 0.21052631578947367);
  assert.equal(styleProbability(plain, BLACK_WHITE), 0.0004337453914552157);
  // The exact value is 12/57 · 4/56 · 18/53 · 19/54 · 9/58; see the next test for the task's 0.00027875905095346563.
  assert.equal(styleProbability(plain, PINK_PINK), 0.00027883632307835294);
});

test(
  "the task's figure 0.00027875905095346563 is the same product with each factor rounded to 4 decimals",
  NEEDS_DATA,
  () => {
    const factors = Object.entries(PINK_PINK).map(([c, o]) => optionProbability(plain, c, o!));
    assert.deepEqual(factors, [12 / 57, 4 / 56, 18 / 53, 19 / 54, 9 / 58]);
    assert.equal(
      factors.reduce((p, f) => p * Number(f.toFixed(4)), 1),
      0.00027875905095346563,
    );
    assert.notEqual(styleProbability(plain, PINK_PINK), 0.00027875905095346563);
  },
);

test("smoothing: (count + α) / (total + α·K), α = 0 is the plain MLE", NEEDS_DATA, () => {
  const rows = optionTable(plain);
  assert.equal(rows.length, 7 + 6 + 3 + 4 + 8);
  const bun = rows.find((r) => r.option === "длинные в пучок")!;
  assert.deepEqual([bun.count, bun.mle, bun.probability], [0, 0, 1 / 57]);
  const mle = fitStyles(course, { alpha: 0 });
  assert.equal(optionProbability(mle, HAIR, "длинные прямые"), 23 / 50);
  assert.equal(
    optionProbability(fitStyles(course, { alpha: 2.5 }), HAIR, "длинные прямые"),
    (23 + 2.5) / (50 + 2.5 * 7),
  );
  for (const c of plain.categories) assert.ok(Math.abs(sum(c.probs) - 1) < 1e-12, c.name);
  assert.throws(() => fitStyles(course, { alpha: -1 }), /alpha must be a finite number >= 0, got -1/);
  assert.throws(() => fitStyles(course, { alpha: NaN }), /alpha/);
});

test("styleProbability rejects unknown options and categories, and nulls outside a rule", NEEDS_DATA, () => {
  assert.throws(
    () => styleProbability(plain, { ...BLACK_WHITE, [COLOUR]: "зелёный" }),
    /unknown option "зелёный" in category "цвет волос"/,
  );
  assert.throws(() => styleProbability(plain, { ...BLACK_WHITE, обувь: "кеды" }), /unknown category "обувь"/);
  const { одежда: _, ...missing } = BLACK_WHITE;
  assert.throws(() => styleProbability(plain, missing), /the style has no "одежда"/);
  assert.throws(
    () => styleProbability(plain, { ...BLACK_WHITE, [COLOUR]: null }),
    /category "цвет волос" has no option/,
  );
  assert.throws(() => optionProbability(plain, "обувь", "кеды"), /unknown category "обувь"/);
  assert.throws(() => optionProbability(plain, HAIR, "ирокез"), /unknown option "ирокез" in category "прическа"/);
});

// --- enumeration, ranking, entropy ------------------------------------------------------------------------------

test("enumeration: 4,032 distinct styles whose probabilities sum to 1 (α = 1 and α = 0)", NEEDS_DATA, () => {
  for (const alpha of [1, 0]) {
    const all = enumerateStyles(fitStyles(course, { alpha }));
    assert.equal(all.length, 7 * 6 * 3 * 4 * 8);
    assert.equal(new Set(all.map((s) => formatStyle(s.style))).size, all.length);
    assert.ok(Math.abs(sum(all.map((s) => s.probability)) - 1) < 1e-12, `alpha ${alpha}`);
  }
  const zero = enumerateStyles(fitStyles(course, { alpha: 0 })).filter((s) => s.style[HAIR] === "длинные в пучок");
  assert.equal(zero.length, 6 * 3 * 4 * 8);
  assert.ok(
    zero.every((s) => s.probability === 0),
    "count 0 and α = 0 give probability 0",
  );
});

test(
  "with the hair rule: 3,552 styles, no-hair styles once with colour null, sums to 1 (α = 1 and 0)",
  NEEDS_DATA,
  () => {
    for (const alpha of [1, 0]) {
      const all = enumerateStyles(fitStyles(course, { alpha, dependsOn: HAIR_RULE }));
      assert.equal(all.length, 6 * 6 * 3 * 4 * 8 + 1 * 3 * 4 * 8);
      assert.ok(Math.abs(sum(all.map((s) => s.probability)) - 1) < 1e-12, `alpha ${alpha}`);
      const bald = all.filter((s) => s.style[HAIR] === NO_HAIR);
      assert.equal(bald.length, 3 * 4 * 8);
      assert.ok(bald.every((s) => s.style[COLOUR] === null));
      assert.ok(all.every((s) => (s.style[COLOUR] === null) === (s.style[HAIR] === NO_HAIR)));
    }
  },
);

test("chain rule: a no-hair style under the rule has the total of its coloured versions without it", NEEDS_DATA, () => {
  const rest = ["круглые очки", "худи", "синий"] as const;
  const bald = styleProbability(ruled, style(NO_HAIR, null, ...rest));
  const coloured = plain.categories[1].options.map((c) => styleProbability(plain, style(NO_HAIR, c, ...rest)));
  assert.ok(Math.abs(bald - sum(coloured)) < 1e-18);
  assert.equal(bald, (8 / 57) * 1 * (23 / 53) * (8 / 54) * (6 / 58));
  // Styles with hair keep their probability; impossible combinations have 0.
  assert.equal(styleProbability(ruled, BLACK_WHITE), styleProbability(plain, BLACK_WHITE));
  assert.equal(styleProbability(ruled, style(NO_HAIR, "черный", ...rest)), 0);
  assert.equal(styleProbability(ruled, style("длинные прямые", null, ...rest)), 0);
  assert.throws(() => styleProbability(ruled, style(NO_HAIR, "зелёный", ...rest)), /unknown option "зелёный"/);
});

test(
  "marginal hair colour under the rule is the total probability Σ_h P(h) P(c|h), and matches enumeration",
  NEEDS_DATA,
  () => {
    const rows = marginal(ruled, COLOUR);
    assert.ok(Math.abs(sum(rows.map((r) => r.probability)) - 1) < 1e-12);
    assert.equal(rows.find((r) => r.option === null)!.probability, 8 / 57);
    const all = enumerateStyles(ruled);
    for (const r of rows) {
      const fromEnumeration = sum(all.filter((s) => s.style[COLOUR] === r.option).map((s) => s.probability));
      assert.ok(Math.abs(fromEnumeration - r.probability) < 1e-12, String(r.option));
      if (r.option !== null)
        assert.ok(Math.abs(r.probability - (49 / 57) * optionProbability(ruled, COLOUR, r.option)) < 1e-15);
    }
    // Without the rule a marginal is the smoothed distribution itself.
    assert.deepEqual(
      marginal(plain, COLOUR).map((r) => r.probability),
      plain.categories[1].probs,
    );
  },
);

test("the rule is data-driven and checked against the data", NEEDS_DATA, () => {
  const rule = (r: Partial<typeof HAIR_RULE>) => () => fitStyles(course, { dependsOn: { ...HAIR_RULE, ...r } });
  assert.throws(rule({ category: "обувь" }), /no category "обувь"/);
  assert.throws(rule({ parent: "рост" }), /no category "рост"/);
  assert.throws(rule({ undefinedWhen: ["лысый"] }), /"лысый" is not an option of "прическа"/);
  assert.throws(rule({ parent: COLOUR }), /cannot depend on itself/);
  assert.throws(
    () =>
      fitStyles(course, {
        dependsOn: [HAIR_RULE, { category: HAIR, parent: "аксесуар", undefinedWhen: ["нет очков"] }],
      }),
    /depends on another category itself/,
  );
  // Another rule on the same data: no clothes colour for hoodies. Still a distribution.
  const other = fitStyles(course, {
    dependsOn: [HAIR_RULE, { category: "цвет одежды", parent: "одежда", undefinedWhen: ["худи"] }],
  });
  const all = enumerateStyles(other);
  assert.equal(all.length, (6 * 6 + 1) * 3 * (3 * 8 + 1));
  assert.ok(Math.abs(sum(all.map((s) => s.probability)) - 1) < 1e-12);
});

test("top-k: the most and least likely styles, in order", NEEDS_DATA, () => {
  const all = enumerateStyles(plain).map((s) => s.probability);
  const most = topStyles(plain, 10);
  const least = topStyles(plain, 10, "least");
  assert.equal(most.length, 10);
  assert.equal(most[0].probability, Math.max(...all));
  assert.equal(least[0].probability, Math.min(...all));
  for (let i = 1; i < 10; i++) {
    assert.ok(most[i - 1].probability >= most[i].probability);
    assert.ok(least[i - 1].probability <= least[i].probability);
  }
  assert.equal(most[0].style[HAIR], "длинные прямые");
  assert.equal(least[0].style[HAIR], "длинные в пучок");
  assert.equal(most[9].probability, [...all].sort((a, b) => b - a)[9]);
  assert.ok(topStyles(fitStyles(course, { alpha: 0 }), 5, "least").every((s) => s.probability === 0));
  assert.deepEqual(topStyles(plain, 0), []);
});

test("entropy: sum of the categories' entropies; under the rule H − P(no hair)·H(colour)", NEEDS_DATA, () => {
  const perCategory = sum(plain.categories.map((c) => distributionEntropy(c.probs)));
  assert.equal(entropy(plain), perCategory);
  assert.ok(Math.abs(distributionEntropy(enumerateStyles(plain).map((s) => s.probability)) - perCategory) < 1e-12);
  const expected = perCategory - (8 / 57) * distributionEntropy(plain.categories[1].probs);
  assert.ok(Math.abs(entropy(ruled) - expected) < 1e-12);
  assert.equal(distributionEntropy([0.25, 0.25, 0.25, 0.25, 0]), 2);
});

// --- sampling -----------------------------------------------------------------------------------------------------

test("mulberry32 is reproducible and uniform in [0, 1)", () => {
  const a = mulberry32(7);
  const b = mulberry32(7);
  const xs = Array.from({ length: 10_000 }, () => a());
  assert.deepEqual(
    xs,
    Array.from({ length: 10_000 }, () => b()),
  );
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  assert.ok(Math.abs(sum(xs) / xs.length - 0.5) < 0.01);
  const other = mulberry32(8);
  assert.notDeepEqual(
    xs.slice(0, 5),
    Array.from({ length: 5 }, () => other()),
  );
  assert.throws(() => mulberry32(1.5), /seed must be an integer/);
});

test("the generator: same seed same styles, another seed other styles, probabilities attached", NEEDS_DATA, () => {
  const a = take(styleGenerator(plain, 42), 50);
  assert.deepEqual(a, take(styleGenerator(plain, 42), 50));
  assert.notDeepEqual(
    a.map((s) => s.style),
    take(styleGenerator(plain, 43), 50).map((s) => s.style),
  );
  for (const s of a) assert.equal(s.probability, styleProbability(plain, s.style));
  assert.deepEqual(
    Object.keys(a[0].style),
    plain.categories.map((c) => c.name),
  );
  assert.equal(take(styleGenerator(plain, 1), 0).length, 0);
});

const sampled = (model: StyleModel, n: number, seed: number) =>
  take(styleGenerator(model, seed), n).map((s) => s.style);

test("100,000 samples match the model (chi-square per category), with and without the rule", NEEDS_DATA, () => {
  for (const model of [plain, ruled]) {
    const checks = frequencyCheck(model, sampled(model, 100_000, 2024));
    assert.equal(checks.length, 5);
    for (const c of checks) assert.ok(c.pass, `${c.category}: X² = ${c.statistic}, df ${c.df}, p = ${c.pValue}`);
  }
  const bald = sampled(ruled, 20_000, 5).filter((s) => s[HAIR] === NO_HAIR);
  assert.ok(bald.length > 0 && bald.every((s) => s[COLOUR] === null));
  const mle = fitStyles(course, { alpha: 0 });
  assert.equal(sampled(mle, 20_000, 9).filter((s) => s[HAIR] === "длинные в пучок").length, 0);
});

test("the same check catches wrong samplers: uniform options, and ignoring the smoothing", NEEDS_DATA, () => {
  const random = mulberry32(2024);
  const uniform = Array.from(
    { length: 100_000 },
    (): Style =>
      Object.fromEntries(plain.categories.map((c) => [c.name, c.options[Math.floor(random() * c.options.length)]])),
  );
  const checks = frequencyCheck(plain, uniform);
  assert.ok(
    checks.every((c) => !c.pass),
    JSON.stringify(checks),
  );
  // Sampling the unsmoothed MLE never draws "длинные в пучок", which the α = 1 model gives 1/57: the hair check fails.
  const unsmoothed = Array.from({ length: 100_000 }, () => sampleStyle(fitStyles(course, { alpha: 0 }), random));
  assert.equal(frequencyCheck(plain, unsmoothed).find((c) => c.category === HAIR)!.pass, false);
  // A zero-probability option that shows up fails outright.
  const mle = fitStyles(course, { alpha: 0 });
  const bad = frequencyCheck(mle, [...sampled(mle, 1000, 1), { ...BLACK_WHITE, [HAIR]: "длинные в пучок" }]);
  assert.deepEqual([bad[0].statistic, bad[0].pValue, bad[0].pass], [Infinity, 0, false]);
  assert.throws(() => optionFrequencies(ruled, [{ ...BLACK_WHITE, [COLOUR]: "зелёный" }], COLOUR), /cannot produce/);
});

test("chiSquarePValue matches known quantiles and closed forms", () => {
  assert.ok(Math.abs(chiSquarePValue(3.841458820694124, 1) - 0.05) < 1e-12);
  assert.ok(Math.abs(chiSquarePValue(14.067140449340169, 7) - 0.05) < 1e-12);
  assert.ok(Math.abs(chiSquarePValue(24.32188690692, 7) - 0.001) < 1e-9);
  for (const x of [0.1, 1, 5, 30])
    assert.ok(Math.abs(chiSquarePValue(x, 2) - Math.exp(-x / 2)) < 1e-14, `df 2, x ${x}`);
  assert.ok(Math.abs(chiSquarePValue(0.5, 4) - Math.exp(-0.25) * 1.25) < 1e-14);
  assert.equal(chiSquarePValue(0, 3), 1);
  assert.equal(chiSquarePValue(Infinity, 3), 0);
  assert.throws(() => chiSquarePValue(1, 0), /degrees of freedom/);
});

// --- loading ------------------------------------------------------------------------------------------------------

test("the .py parser reads a file laid out like the course's styles.py (built from styles.json)", NEEDS_DATA, () => {
  const text = coursePy(course);
  assert.match(text, /^styles = \{\n {4}'прическа':\[\n {8}'нет волос',\n/);
  const file = write("styles.py", text);
  const fromPy = loadStyles(file);
  assert.deepEqual(fromPy.categories, course.categories);
  assert.equal(fromPy.source, file);
  assert.equal(styleProbability(fitStyles(fromPy), BLACK_WHITE), 0.0004337453914552157);
  // The same file saved on Windows: a byte-order mark and CRLF line ends.
  assert.deepEqual(
    loadStyles(write("windows.py", `\uFEFF${text.replace(/\n/g, "\r\n")}`)).categories,
    course.categories,
  );
});

test("the .py parser: comments, both quotes, escapes, trailing commas, adjacent strings, tuples", () => {
  const text = [
    "# a comment line",
    "styles = {  # trailing comment",
    '    "hair": ["bald", \'it\\\'s "long"\', "ab" \'cd\', "\\u00e9\\x41\\n",],',
    "    'size': ('s', 'm',),",
    "}",
    "styles_count = {'hair': [1, 2, 3_000, 4], 'size': (0, -0)}; other = [1.5e2, {'k': 'v'}]",
    "",
  ].join("\n");
  const data = parseStylesPy(text);
  assert.deepEqual(data.categories, [
    { name: "hair", options: ["bald", `it's "long"`, "abcd", "éA\n"], counts: [1, 2, 3000, 4] },
    { name: "size", options: ["s", "m"], counts: [0, 0] },
  ]);
  assert.deepEqual(parsePythonAssignments(text).get("other"), [150, new PyDict([["k", "v"]])]);
});

test("the .py parser reports syntax errors with file, line and column", () => {
  const bad = (text: string, message: RegExp) => assert.throws(() => parseStylesPy(text, "s.py"), message);
  bad("styles = {\n  'a': [1, 2\n}", /^Error: s\.py:3:1: expected "," or "]", found "}"/);
  bad("styles = {'a': 'open}\n", /s\.py:1:16: unterminated string/);
  bad("import random\nstyles = {}", /s\.py:1:8: only `name = literal` assignments are supported/);
  bad("styles = {'a': [1], 'a': [2]}", /s\.py:1:21: duplicate key "a"/);
  bad("styles = {'a': [True]}", /expected a literal .* found "True\]}"/);
  bad("styles = {'a': ['x']} extra", /unexpected "extra" after the value of "styles"/);
  bad("styles = {'a': ['x']}", /s\.py: no assignment `styles_count = \{\.\.\.\}` found/);
  bad("styles = ['x']\nstyles_count = {}", /`styles` must be a dict literal/);
  bad("styles = {1: ['x']}\nstyles_count = {}", /`styles` keys must be strings, got 1/);
});

/** Writes the same bad data as styles.json (styles/styles_count shape) and styles.py; both must fail alike. */
function bothFail(name: string, styles: object, counts: object, message: RegExp) {
  const json = write(`${name}.json`, JSON.stringify({ styles, styles_count: counts }));
  const pyPath = write(`${name}.py`, pyFile(styles, counts));
  for (const file of [json, pyPath])
    assert.throws(
      () => loadStyles(file),
      (e: Error) => e.message.startsWith(file) && message.test(e.message),
      file,
    );
}

test("bad data is rejected with a clear error, from JSON and from .py", () => {
  const hair = { hair: ["bald", "long"] };
  bothFail(
    "unknown",
    hair,
    { hair: [1, 2], hats: [3] },
    /unknown category "hats" in styles_count \(it is not in styles\)/,
  );
  bothFail(
    "uncounted",
    { ...hair, hats: ["cap"] },
    { hair: [1, 2] },
    /category "hats" in styles has no counts in styles_count/,
  );
  bothFail("lengths", hair, { hair: [1, 2, 3] }, /category "hair": 2 options but 3 counts/);
  bothFail(
    "negative",
    hair,
    { hair: [1, -2] },
    /category "hair", option "long": count must be a non-negative integer, got -2/,
  );
  bothFail(
    "fraction",
    hair,
    { hair: [1.5, 2] },
    /category "hair", option "bald": count must be a non-negative integer, got 1\.5/,
  );
  bothFail("empty", { hair: [] }, { hair: [] }, /category "hair": has no options/);
  bothFail("twice", { hair: ["bald", "bald"] }, { hair: [1, 2] }, /option "bald" appears twice/);
  bothFail("none", {}, {}, /no categories/);
  // A category that was never observed: fine with smoothing, 0/0 without.
  for (const file of [
    write(
      "zero.json",
      JSON.stringify({
        hair: [
          { option: "bald", count: 0 },
          { option: "long", count: 0 },
        ],
      }),
    ),
    write("zero.py", pyFile(hair, { hair: [0, 0] })),
  ]) {
    const data = loadStyles(file);
    assert.deepEqual(fitStyles(data).categories[0].probs, [0.5, 0.5]);
    assert.throws(
      () => fitStyles(data, { alpha: 0 }),
      (e: Error) =>
        e.message ===
        `${file}: category "hair" has zero total count and alpha = 0, so its probabilities are 0/0; use alpha > 0`,
    );
  }
});

test("bad styles.json in the {category: [{option, count}]} shape", () => {
  const bad = (value: unknown, message: RegExp) =>
    assert.throws(() => parseStylesJson(JSON.stringify(value), "s.json"), message);
  bad(
    { hair: [{ option: "bald", count: -1 }] },
    /s\.json: category "hair", option "bald": count must be a non-negative integer, got -1/,
  );
  bad({ hair: [{ option: "bald", count: 2.5 }] }, /got 2\.5/);
  bad({ hair: [{ option: "bald", count: "3" }] }, /got "3"/);
  bad({ hair: [{ option: "bald" }] }, /s\.json: category "hair", entry 1 must be an object \{option, count\}/);
  bad({ hair: "bald" }, /category "hair" must be a list of \{option, count\}/);
  bad([1, 2], /s\.json: expected an object/);
  bad({ styles: {}, styles_count: [] }, /"styles" and "styles_count" must both be objects/);
  assert.throws(() => parseStylesJson("{oops", "s.json"), /s\.json: not valid JSON/);
});

test("loadStyles picks the parser by extension and defaults to resolveData('styles')", NEEDS_DATA, () => {
  assert.deepEqual(loadStyles(), course);
  assert.equal(loadStyles().source, resolveData("styles"));
  assert.throws(
    () => loadStyles(write("styles.yaml", "")),
    /styles\.yaml: unsupported style file \(expected \.json or \.py\)/,
  );
  assert.throws(() => loadStyles(path.join(tmp, "missing.json")), /missing\.json: cannot read style data/);
  const json = loadStyles(
    write("pairs.json", JSON.stringify({ styles: { a: ["x", "y"] }, styles_count: { a: [1, 3] } })),
  );
  assert.deepEqual(json.categories, [{ name: "a", options: ["x", "y"], counts: [1, 3] }]);
});

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
