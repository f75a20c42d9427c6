/**
 * Progress lines for long work (training, decoding): counts, rate and ETA, the same text on the command line and
 * in a notebook (where `tslab.newDisplay()` updates one output in place).
 *
 *   const p = new ProgressClock(total);  p.tick(done) -> { rate, etaSeconds }
 *   formatDuration(75) // "1m15s"
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** Rate and ETA of `total` units of work from the time the clock was made. */
export class ProgressClock {
  private readonly start = Date.now();
  constructor(public readonly total: number) {}
  tick(done: number): { elapsedSeconds: number; rate: number; etaSeconds: number } {
    const elapsedSeconds = (Date.now() - this.start) / 1000;
    const rate = done / Math.max(elapsedSeconds, 1e-9);
    return { elapsedSeconds, rate, etaSeconds: done > 0 ? (this.total - done) / rate : Infinity };
  }
}

/** A text bar such as `[#######.............] 35%`. */
export function bar(fraction: number, width = 20): string {
  const f = Math.min(1, Math.max(0, fraction));
  const n = Math.round(f * width);
  return `[${"#".repeat(n)}${".".repeat(width - n)}] ${Math.round(f * 100)}%`;
}
