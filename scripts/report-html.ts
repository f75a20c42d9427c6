/**
 * Make an executed notebook and its HTML export a report that opens anywhere (issue 13), used by
 * scripts/run-notebooks.ts between execution and export:
 *
 *   numberCells(nb)      code cells get execution counts 1, 2, … in order (tslab leaves them null, so every cell
 *                        showed `In [ ]:`, as if it never ran)
 *   renderMath(nb)       `$…$` and `$$…$$` in markdown become MathML (KaTeX, at export time): no MathJax needed
 *   selfContained(html)  drops the require.js and MathJax scripts nbconvert links from this machine's Debian paths
 *                        (file:///usr/share/javascript/…), adds a note for readers without JavaScript, and refuses
 *                        any other script, stylesheet or image that is not inside the file
 *
 *   const nb = renderMath(numberCells(JSON.parse(text))); … selfContained(exportedHtml)
 */
import katex from "katex";

interface Cell {
  cell_type: string;
  source: string | string[];
  execution_count?: number | null;
  outputs?: { output_type: string; execution_count?: number | null }[];
}
interface Notebook {
  cells: Cell[];
}

export function numberCells<N extends Notebook>(nb: N): N {
  let count = 0;
  for (const c of nb.cells) {
    if (c.cell_type !== "code") continue;
    c.execution_count = ++count;
    for (const o of c.outputs ?? []) if (o.output_type === "execute_result") o.execution_count = count;
  }
  return nb;
}

const mathml = (tex: string, displayMode: boolean) =>
  katex.renderToString(tex, { output: "mathml", displayMode, throwOnError: false });

/** Markdown maths to MathML, outside code spans and fences. A lone `$` (a price, a shell prompt) is left alone. */
export function renderMarkdownMath(md: string): string {
  return md
    .split(/(```[\s\S]*?```|`[^`\n]*`)/)
    .map((part, i) =>
      i % 2 === 1
        ? part
        : part
            .replace(/\$\$([\s\S]+?)\$\$/g, (_, tex: string) => mathml(tex.trim(), true))
            .replace(/(^|[^\\$])\$([^$\n]+?)\$(?!\d)/g, (_, pre: string, tex: string) => pre + mathml(tex, false)),
    )
    .join("");
}

export function renderMath<N extends Notebook>(nb: N): N {
  for (const c of nb.cells) {
    if (c.cell_type !== "markdown") continue;
    const text = Array.isArray(c.source) ? c.source.join("") : c.source;
    c.source = renderMarkdownMath(text);
  }
  return nb;
}

const NOSCRIPT =
  '<noscript><p style="border:1px solid #c00;padding:8px;margin:8px 0">' +
  "JavaScript is off: the tables, images and text " +
  "below are all there, but the interactive charts (Plotly) and notebook 04's threshold slider need JavaScript." +
  "</p></noscript>";

/** The exported HTML without links to this machine's files; throws naming any other external resource left. */
export function selfContained(html: string): string {
  let out = html
    .replace(/<script[^>]*src="file:\/\/[^"]*require[^"]*"[^>]*>\s*<\/script>/gi, "")
    .replace(/<script[^>]*src="[^"]*MathJax[^"]*"[^>]*>\s*<\/script>/gi, "")
    .replace(/<!-- Load mathjax -->[\s\S]*?<!-- End of mathjax configuration -->/i, "")
    .replace(/<script type="text\/x-mathjax-config">[\s\S]*?<\/script>/gi, "");
  out = out.replace(/<body([^>]*)>/i, (m) => `${m}\n${NOSCRIPT}`);
  const external = [
    ...out.matchAll(/<(script|link|img|iframe)\b[^>]*\b(src|href)="((?:file|https?):\/\/[^"]*)"/gi),
  ].map((m) => m[3]);
  if (external.length)
    throw new Error(
      `the report still loads ${external.length} file(s) from outside itself: ${external.slice(0, 3).join(", ")}`,
    );
  return out;
}
