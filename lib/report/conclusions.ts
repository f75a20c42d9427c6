/**
 * The conclusions of notebook 04, written from the measured figures (so they stay true when the model changes).
 *
 *   tslab.display.markdown(conclusions(primaryEvaluation, "pool5", SEED_RESULTS, { testName: "the report part" }));
 */
import { choiceById, type ScoreEvaluation } from "../detector";
import { type ReferenceResult, SEED_RESULTS } from "./references";

// ---------------------------------------------------------------------------------------------------------------
// Conclusions

const pct = (x: number | null | undefined) =>
  x === null || x === undefined || Number.isNaN(x) ? "n/a" : `${(100 * x).toFixed(1)} %`;

/**
 * A few sentences of markdown from the numbers: the primary strategy's test TPR/TNR against the course target and the
 * best seed, how far validation's TNR and TPR were from test's, and which strategy predicted test TNR best.
 */
export function conclusions(
  evaluation: ScoreEvaluation,
  primaryStrategy: string,
  references: readonly ReferenceResult[] = SEED_RESULTS,
  options: { testName?: string } = {},
): string {
  const testName = options.testName ?? "test";
  const choice = choiceById(evaluation.validation.choices, primaryStrategy);
  const test = choiceById(evaluation.test.strategies, primaryStrategy);
  const row = choiceById(evaluation.predictedVsActual, primaryStrategy);
  const m = test.metrics;
  const lines: string[] = [];
  const validationAuroc = evaluation.validation.auroc.toFixed(3);
  lines.push(
    `- **Ranking.** With the \`${evaluation.score}\` score the validation AUROC is ${validationAuroc} ` +
      `and the AUROC on ${testName} ${evaluation.test.auroc.toFixed(3)} ` +
      `(AP ${evaluation.test.averagePrecision.toFixed(3)}): ` +
      (evaluation.validation.auroc - evaluation.test.auroc > 0.02
        ? `validation overstates how well spills separate, since proliv/ is a single spill event.`
        : `validation and test rank spills about equally well.`),
  );
  if (m === null)
    lines.push(`- **Threshold.** The primary strategy \`${primaryStrategy}\` could not run: ${choice.note}.`);
  else {
    const target = references.find((r) => r.source === "course target");
    const seed = references.find((r) => r.source.startsWith("best seed"));
    const meets =
      target && target.tpr !== null && target.tnr !== null ? m.tpr > target.tpr && m.tnr > target.tnr : null;
    const chosenOn = choice.validation ? "on validation" : "without labels";
    lines.push(
      `- **Threshold.** \`${primaryStrategy}\` (${choice.label}) chose ${m.threshold.toPrecision(4)} ${chosenOn}; ` +
        `on ${testName} it catches ${m.tp} of ${m.tp + m.fn} spills (TPR ${pct(m.tpr)}) ` +
        `and passes ${m.tn} of ${m.tn + m.fp} normals (TNR ${pct(m.tnr)}), F1 ${m.f1.toFixed(3)}. ` +
        (meets === null
          ? ""
          : meets
            ? `That meets the course target (both above ${target!.tpr}).`
            : `That misses the course target (TPR and TNR both above ${target!.tpr}).`) +
        (seed && seed.f1 !== null
          ? ` The best seed reported F1 ${seed.f1.toFixed(2)} (TPR ${pct(seed.tpr)}, TNR ${pct(seed.tnr)}).`
          : ""),
    );
    if (choice.validation)
      lines.push(
        `- **Validation as a forecast.** Validation promised TNR ${pct(row.tnrValidation)} ` +
          `and ${testName} gave ${pct(row.tnrTest)}; ` +
          `it promised TPR ${pct(row.tprValidation)} and ${testName} gave ${pct(row.tprTest)}.`,
      );
    else if (choice.options.poolShare !== undefined || choice.strategy === "checkedPool") {
      const n = m.tp + m.fp + m.tn + m.fn;
      const aim =
        choice.options.poolShare !== undefined
          ? `set to flag ${pct(choice.options.poolShare)} of the unlabelled images`
          : `set at the reference normals' ${choice.options.percentile}th percentile (the pool check failed)`;
      lines.push(
        `- **The label-free forecast.** The threshold was ${aim}; ` +
          `on ${testName} it flagged ${pct((m.tp + m.fp) / n)} (${m.tp + m.fp} of ${n}).`,
      );
    }
  }
  const percentiles = evaluation.predictedVsActual.filter(
    (r) => r.tnrGap !== null && choiceById(evaluation.validation.choices, r.id).strategy === "percentile",
  );
  if (percentiles.length > 0)
    lines.push(
      `- **Percentile thresholds** (normals only): ` +
        percentiles
          .map((r) => `\`${r.id}\` promised TNR ${pct(r.tnrValidation)} and reached ${pct(r.tnrTest)}`)
          .join("; ") +
        (percentiles.every((r) => Math.abs(r.tnrGap!) <= 0.02)
          ? ` — the test normals behave like the held-out ones.`
          : " — off by more than 2 points: the test normals do not score like the normals held out from train/, " +
            "so a percentile of train/'s normals is not a percentile of test's."),
    );
  const withGap = evaluation.predictedVsActual.filter((r) => r.tnrGap !== null);
  if (withGap.length > 0) {
    const best = withGap.reduce((a, b) => (Math.abs(b.tnrGap!) < Math.abs(a.tnrGap!) ? b : a));
    const worstTpr = withGap
      .filter((r) => r.tprGap !== null)
      .reduce((a, b) => (b.tprGap! < a.tprGap! ? b : a), withGap[0]);
    lines.push(
      `- Across the ${withGap.length} strategies, \`${best.id}\` predicted test TNR best ` +
        `(off by ${pct(Math.abs(best.tnrGap!))}); ` +
        `validation overstated TPR most for \`${worstTpr.id}\` ` +
        `(${pct(worstTpr.tprValidation)} → ${pct(worstTpr.tprTest)}).`,
    );
  }
  return lines.join("\n");
}
