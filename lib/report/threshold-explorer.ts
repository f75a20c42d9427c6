/**
 * An interactive threshold for a report that has no kernel: a slider over the score range that updates, in the page,
 * the confusion matrix, TPR, TNR, precision and F1 of each labelled set, and the threshold line on each set's score
 * histogram and metrics-against-threshold chart. Plain JavaScript and the Plotly bundle the notebook already inlined.
 * The page computes exactly what lib/metrics does (spill when score > threshold; precision 1 when nothing is flagged;
 * F1 = 2TP / (2TP + FP + FN)), and the tables start filled in by lib/metrics itself, so a reader without JavaScript
 * sees the figures at the starting threshold. tests/browser checks the page against lib/metrics at a few thresholds.
 *
 *   const sets = [{ name: "validation", labels, scores }, { name: "report part", labels: l, scores: s }];
 *   tslab.display.html(thresholdExplorer(sets, { threshold: 38.3, scoreName: "densityAdapted" }));
 */
import { metricsAtThreshold } from "../detector/metrics";
import { escapeHtml } from "./display";

export interface ExplorerSet {
  name: string;
  labels: ArrayLike<number>;
  scores: ArrayLike<number>;
}

let explorerCounter = 0;
const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : "–");

/** The thresholds the slider can take: `steps` values evenly spaced over the scores' range (the start included). */
export function sliderGrid(scores: number[], start: number, steps = 400): number[] {
  const finite = scores.filter(Number.isFinite);
  const lo = Math.min(...finite, start),
    hi = Math.max(...finite, start);
  const grid = Array.from({ length: steps + 1 }, (_, i) => lo + ((hi - lo) * i) / steps);
  grid.push(start);
  return [...new Set(grid)].sort((a, b) => a - b);
}

function setTable(id: string, set: ExplorerSet, threshold: number): string {
  const m = metricsAtThreshold(set.labels, set.scores, threshold);
  const cell = (k: string, v: number | string) =>
    `<td data-k="${k}">${typeof v === "number" ? (Number.isInteger(v) ? v : fmt(v)) : v}</td>`;
  return (
    `<table class="thr-set" id="${id}" style="margin:6px 12px 6px 0;display:inline-table">` +
    `<caption>${escapeHtml(set.name)}</caption>` +
    `<tr><th></th><th>said normal</th><th>said spill</th></tr>` +
    `<tr><th>normal</th>${cell("tn", m.tn)}${cell("fp", m.fp)}</tr>` +
    `<tr><th>spill</th>${cell("fn", m.fn)}${cell("tp", m.tp)}</tr>` +
    `<tr><th>TPR</th>${cell("tpr", m.tpr)}<th>TNR</th>${cell("tnr", m.tnr)}</tr>` +
    `<tr><th>precision</th>${cell("precision", m.precision)}<th>F1</th>${cell("f1", m.f1)}</tr></table>`
  );
}

export function thresholdExplorer(
  sets: readonly ExplorerSet[],
  options: { threshold: number; scoreName: string; steps?: number },
): string {
  if (sets.length === 0) throw new Error("thresholdExplorer: no sets");
  for (const s of sets)
    if (s.labels.length !== s.scores.length)
      throw new Error(`thresholdExplorer: ${s.name} has ${s.labels.length} labels and ${s.scores.length} scores`);
  const id = `thr-${(explorerCounter++).toString(36)}`;
  const grid = sliderGrid(
    sets.flatMap((s) => Array.from(s.scores)),
    options.threshold,
    options.steps,
  );
  const start = grid.indexOf(options.threshold);
  const data = sets.map((s) => ({
    name: s.name,
    labels: Array.from(s.labels),
    scores: Array.from(s.scores, (v) => +v.toPrecision(7)),
  }));
  const tables = sets.map((s, i) => setTable(`${id}-set-${i}`, s, options.threshold)).join("");
  const charts = sets
    .map(
      (_, i) =>
        `<div id="${id}-hist-${i}" style="display:inline-block;width:48%"></div>` +
        `<div id="${id}-curve-${i}" style="display:inline-block;width:48%"></div>`,
    )
    .join("");
  const script =
    `(function(){\n` +
    `var D=${JSON.stringify(data)},G=${JSON.stringify(grid)},ID=${JSON.stringify(id)},` +
    `S=${JSON.stringify(options.scoreName)};\n` +
    `function m(l,s,t){var tp=0,fp=0,tn=0,fn=0;` +
    `for(var i=0;i<l.length;i++){var p=s[i]>t;if(l[i]===1){p?tp++:fn++}else{p?fp++:tn++}}\n` +
    `return{tp:tp,fp:fp,tn:tn,fn:fn,tpr:tp/(tp+fn),tnr:tn/(tn+fp),precision:tp+fp===0?1:tp/(tp+fp),` +
    `f1:2*tp/(2*tp+fp+fn)}}\n` +
    `function f(v){return isFinite(v)?v.toFixed(4):"\\u2013"}\n` +
    `var slider=document.getElementById(ID+"-slider"),out=document.getElementById(ID+"-value");\n` +
    `function mark(t){slider.setAttribute("data-threshold",String(t))}\n` +
    `function line(t){return{type:"line",x0:t,x1:t,yref:"paper",y0:0,y1:1,line:{dash:"dash",color:"#333"}}}\n` +
    `function update(){var t=G[+slider.value];out.textContent=t.toPrecision(5);mark(t);\n` +
    `D.forEach(function(d,i){var r=m(d.labels,d.scores,t),tb=document.getElementById(ID+"-set-"+i);\n` +
    `["tp","fp","tn","fn"].forEach(function(k){tb.querySelector('[data-k="'+k+'"]').textContent=r[k]});\n` +
    `["tpr","tnr","precision","f1"].forEach(function(k){tb.querySelector('[data-k="'+k+'"]').textContent=f(r[k])});\n` +
    `if(window.Plotly){["hist","curve"].forEach(function(c){var el=document.getElementById(ID+"-"+c+"-"+i);` +
    `if(el&&el.data)window.Plotly.relayout(el,{shapes:[line(t)]})})}});}\n` +
    `function draw(){if(!window.Plotly)return setTimeout(draw,50);var t=G[+slider.value];\n` +
    `D.forEach(function(d,i){var n=[],s=[];d.labels.forEach(function(l,k){(l===1?s:n).push(d.scores[k])});\n` +
    `window.Plotly.newPlot(ID+"-hist-"+i,[{type:"histogram",x:n,name:"normal",histnorm:"probability",opacity:0.6},` +
    `{type:"histogram",x:s,name:"spill",histnorm:"probability",opacity:0.6}],\n` +
    `{title:{text:d.name+": scores by class"},barmode:"overlay",height:300,margin:{t:40,b:40},xaxis:{title:{text:S}},` +
    `shapes:[line(t)]},{displaylogo:false,responsive:true});\n` +
    `var step=Math.max(1,Math.floor(G.length/150)),xs=[],tpr=[],tnr=[],f1=[];` +
    `for(var k=0;k<G.length;k+=step){var r=m(d.labels,d.scores,G[k]);` +
    `xs.push(G[k]);tpr.push(r.tpr);tnr.push(r.tnr);f1.push(r.f1)}\n` +
    `window.Plotly.newPlot(ID+"-curve-"+i,[{x:xs,y:tpr,name:"TPR",mode:"lines"},{x:xs,y:tnr,name:"TNR",mode:"lines"},` +
    `{x:xs,y:f1,name:"F1",mode:"lines"}],\n` +
    `{title:{text:d.name+": metrics against the threshold"},height:300,margin:{t:40,b:40},` +
    `xaxis:{title:{text:"threshold"}},yaxis:{range:[0,1.02]},shapes:[line(t)]},` +
    `{displaylogo:false,responsive:true});});}\n` +
    `slider.addEventListener("input",update);update();draw();})();`;
  return (
    `<div class="thr-explorer" id="${id}"><p><label>threshold on <b>${escapeHtml(options.scoreName)}</b>: ` +
    `<input type="range" id="${id}-slider" min="0" max="${grid.length - 1}" step="1" ` +
    `value="${start}" style="width:60%"> ` +
    `<output id="${id}-value">${options.threshold.toPrecision(5)}</output></label> ` +
    "(starts at the primary threshold; spill when score &gt; threshold)</p>" +
    `${tables}<div>${charts}</div><script>${script}</script></div>`
  );
}
