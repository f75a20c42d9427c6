/**
 * HTML for notebook outputs: plotly charts that render offline, tables and images.
 * Every function returns an HTML string; a notebook shows it with `tslab.display.html(...)`.
 *
 *   import * as tslab from "tslab";
 *   import { plotlyLoader, chart, table } from "../dist/lib/report";
 *   tslab.display.html(plotlyLoader());                        // once per notebook, first cell
 *   tslab.display.html(chart([{ type: "bar", x: ["a", "b"], y: [1, 2] }], { title: "counts" }));
 *   tslab.display.html(table(["option", "p"], [["a", 0.5], ["b", 0.5]]));
 */
import * as fs from "node:fs";

/** Escape text for HTML element content and attributes. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** JSON that is safe inside a <script> element. */
const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, "\\u003c");

let bundleCache: string | null = null;

/**
 * A <script> holding the whole plotly bundle (the cartesian build: bar, scatter, histogram, heatmap, image; 1.5 MB),
 * so that reports and saved notebooks draw their charts with no network.
 */
export function plotlyLoader(): string {
  if (bundleCache === null) {
    const file = require.resolve("plotly.js-cartesian-dist-min");
    bundleCache = fs.readFileSync(file, "utf8").replace(/<\/script/gi, "<\\/script");
  }
  return `<script type="text/javascript">${bundleCache}</script>`;
}

let chartCounter = 0;

export interface ChartOptions {
  title?: string;
  xTitle?: string;
  yTitle?: string;
  height?: number;
  width?: number;
  /** Extra plotly layout keys, merged over the defaults. */
  layout?: Record<string, unknown>;
}

/** A plotly chart as a <div> and the script that draws it (waits for the bundle if it is still loading). */
export function chart(traces: object[], options: ChartOptions = {}): string {
  const id = `chart-${(chartCounter++).toString(36)}`; // no clock in the id: a rerun gives the same report bytes
  const layout = {
    title: options.title ? { text: options.title } : undefined,
    xaxis: { title: options.xTitle ? { text: options.xTitle } : undefined },
    yaxis: { title: options.yTitle ? { text: options.yTitle } : undefined },
    height: options.height ?? 380,
    width: options.width,
    margin: { t: options.title ? 50 : 20, l: 60, r: 20, b: 50 },
    ...options.layout,
  };
  return (
    `<div id="${id}" style="width:100%;height:${layout.height}px"></div>` +
    `<script type="text/javascript">(function(){var d=${scriptJson(traces)},l=${scriptJson(layout)};` +
    `function draw(){if(window.Plotly){window.Plotly.newPlot("${id}",d,l,{responsive:true,displaylogo:false});}` +
    `else{setTimeout(draw,50);}}draw();})();</script>`
  );
}

export type Cell = string | number | boolean | null | undefined;

export interface TableOptions {
  caption?: string;
  /** Significant digits for non-integer numbers (default 4). */
  digits?: number;
  /** Row labels, shown as a first header column. */
  index?: Cell[];
  /** Heat colouring of numeric cells (used for confusion matrices). */
  heat?: boolean;
}

function formatCell(v: Cell, digits = 4): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") {
    if (Number.isNaN(v)) return "NaN";
    if (Number.isInteger(v)) return String(v);
    return Math.abs(v) >= 1e-3 && Math.abs(v) < 1e6
      ? String(Number(v.toPrecision(digits)))
      : v.toExponential(digits - 1);
  }
  return String(v);
}

/** An HTML table from column names and rows. */
export function table(columns: string[], rows: Cell[][], options: TableOptions = {}): string {
  const digits = options.digits ?? 4;
  const numbers = rows.flat().filter((v): v is number => typeof v === "number" && Number.isFinite(v));
  const max = Math.max(1e-12, ...numbers);
  const style = (v: Cell) =>
    options.heat && typeof v === "number"
      ? ` style="background:rgba(31,119,180,${(0.1 + 0.6 * (v / max)).toFixed(2)})"`
      : "";
  const head = (options.index ? "<th></th>" : "") + columns.map((c) => `<th>${escapeHtml(String(c))}</th>`).join("");
  const body = rows
    .map((r, i) => {
      const label = options.index ? `<th>${escapeHtml(formatCell(options.index[i], digits))}</th>` : "";
      return `<tr>${label}${r.map((v) => `<td${style(v)}>${escapeHtml(formatCell(v, digits))}</td>`).join("")}</tr>`;
    })
    .join("");
  const caption = options.caption
    ? `<caption style="caption-side:top;text-align:left">${escapeHtml(options.caption)}</caption>`
    : "";
  return (
    `<table class="dataframe" style="border-collapse:collapse">${caption}` +
    `<thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`
  );
}

/** The minimal shape of a danfo DataFrame that we render (danfo has no HTML renderer in Node). */
export interface FrameLike {
  columns: string[];
  index: (string | number)[];
  values: unknown[];
}

/** An HTML table from a danfo DataFrame. */
export function frameTable(df: FrameLike, options: Omit<TableOptions, "index"> & { showIndex?: boolean } = {}): string {
  const rows = (df.values as Cell[][]).map((r) => (Array.isArray(r) ? r : [r]));
  return table(df.columns, rows, { ...options, index: options.showIndex ? df.index : undefined });
}

/** An <img> of PNG or JPEG bytes, inline as a data URL. */
export function image(
  bytes: Uint8Array,
  options: { width?: number; title?: string; mime?: string; pixelated?: boolean } = {},
): string {
  const b64 = Buffer.from(bytes).toString("base64");
  const w = options.width ? ` width="${options.width}"` : "";
  const t = options.title ? ` title="${escapeHtml(options.title)}"` : "";
  const px = options.pixelated ? ` style="image-rendering:pixelated"` : "";
  return `<img src="data:${options.mime ?? "image/png"};base64,${b64}"${w}${t}${px}>`;
}

/** A grid of captioned images (each item is an <img> string from `image`). */
export function imageGrid(
  items: { html: string; caption?: string }[],
  options: { columns?: number; background?: string } = {},
): string {
  const cols = options.columns ?? 6;
  const bg = options.background ?? "repeating-conic-gradient(#ddd 0% 25%, #fff 0% 50%) 50% / 16px 16px";
  const cells = items
    .map(
      (it) =>
        `<figure style="margin:4px;text-align:center">` +
        `<div style="background:${bg};display:inline-block">${it.html}</div>` +
        (it.caption ? `<figcaption style="font-size:11px">${escapeHtml(it.caption)}</figcaption>` : "") +
        `</figure>`,
    )
    .join("");
  return `<div style="display:grid;grid-template-columns:repeat(${cols},auto);justify-content:start">${cells}</div>`;
}
