import { test } from "node:test";
import assert from "node:assert/strict";
import { numberCells, renderMarkdownMath, selfContained } from "../../scripts/report-html";
import { sliderGrid, thresholdExplorer } from "../../lib/report/threshold-explorer";
import { metricsAtThreshold } from "../../lib/detector/metrics";

test("numberCells: code cells count 1, 2, … and their results carry the count; markdown is left alone", () => {
  type C = {
    cell_type: string;
    source: string;
    execution_count?: number | null;
    outputs?: { output_type: string; execution_count?: number | null }[];
  };
  const nb = numberCells({
    cells: <C[]>[
      { cell_type: "markdown", source: "x" },
      { cell_type: "code", source: "1", outputs: [{ output_type: "execute_result" }] },
      { cell_type: "code", source: "2", outputs: [] },
    ],
  });
  assert.deepEqual(
    nb.cells.map((c) => c.execution_count),
    [undefined, 1, 2],
  );
  assert.equal(nb.cells[1].outputs![0].execution_count, 1);
});

test("renderMarkdownMath: $…$ and $$…$$ become MathML; code spans, fences and a lone $ stay", () => {
  const out = renderMarkdownMath("p = $\\frac{a}{b}$, cost $5, `$x$` and\n$$H = -\\sum p$$\n```\n$y$\n```");
  assert.equal((out.match(/<math/g) ?? []).length, 2);
  assert.match(out, /<mfrac>/);
  assert.match(out, /cost \$5/);
  assert.match(out, /`\$x\$`/);
  assert.match(out, /```\n\$y\$\n```/);
});

test(
  "selfContained drops the Debian require.js and MathJax links, adds the no-JavaScript note, " +
    "refuses other outside files",
  () => {
    const html =
      '<html><head><script src="file:///usr/share/javascript/requirejs/require.min.js"></script>\n' +
      '<script type="text/javascript" ' +
      'src="file:///usr/share/javascript/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe"> </script>\n' +
      '<script type="text/x-mathjax-config">MathJax.Hub.Config({});</script></head>' +
      '<body class="x"><p>hi</p></body></html>';
    const out = selfContained(html);
    assert.doesNotMatch(out, /file:\/\//);
    assert.doesNotMatch(out, /MathJax/);
    assert.match(out, /<body class="x">\n<noscript>.*need JavaScript/);
    assert.throws(
      () => selfContained(`<body><img src="https://example.com/a.png"></body>`),
      /loads 1 file\(s\) from outside itself: https:\/\/example\.com\/a\.png/,
    );
  },
);

test("thresholdExplorer: starts at the threshold with lib/metrics' figures in its tables; checks its input", () => {
  const labels = [0, 0, 0, 1, 1],
    scores = [0.1, 0.2, 0.6, 0.5, 0.9];
  const html = thresholdExplorer([{ name: "v", labels, scores }], { threshold: 0.55, scoreName: "s" });
  const m = metricsAtThreshold(labels, scores, 0.55);
  for (const [k, v] of [
    ["tp", m.tp],
    ["fp", m.fp],
    ["tn", m.tn],
    ["fn", m.fn],
  ] as const)
    assert.match(html, new RegExp(`data-k="${k}">${v}<`));
  assert.match(html, new RegExp(`data-k="f1">${m.f1.toFixed(4)}<`));
  const grid = sliderGrid(scores, 0.55);
  assert.ok(grid.includes(0.55) && grid[0] === 0.1 && grid[grid.length - 1] === 0.9);
  assert.match(html, new RegExp(`value="${grid.indexOf(0.55)}"`));
  assert.throws(() => thresholdExplorer([], { threshold: 0, scoreName: "s" }), /no sets/);
  assert.throws(
    () => thresholdExplorer([{ name: "v", labels: [0], scores: [1, 2] }], { threshold: 0, scoreName: "s" }),
    /1 labels and 2 scores/,
  );
});
