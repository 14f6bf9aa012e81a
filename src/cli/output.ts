import cliProgress from "cli-progress";
import { closeOpenThreads } from "../encoders/open-threads.js";

/** Progress bars and tables go to stderr so stdout stays machine-readable (JSON lines). */
export function progressBar(label: string): cliProgress.SingleBar {
  return new cliProgress.SingleBar(
    {
      format: `${label.padEnd(10)} {bar} {percentage}% | {value}/{total} | {rate}/s | ETA {eta_formatted}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 200,
      noTTYOutput: !process.stderr.isTTY,
      notTTYSchedule: 5000,
    },
    cliProgress.Presets.shades_classic,
  );
}

/** cli-progress has no rate token: compute it from the bar's own start time. */
export function withRate(bar: cliProgress.SingleBar, started: number): (value: number) => void {
  return (value) => bar.update(value, { rate: (value / Math.max(0.001, (Date.now() - started) / 1000)).toFixed(0) });
}

/**
 * A reader that stops early (`triage logs --json | head -1`) closes stdout: the command has nothing left
 * to say, so it ends quietly with exit 0, as Unix tools do. Exit hooks still run (the decision log
 * writes its queued rows), so nothing already decided is lost. This listener is added before any
 * command runs, so it sees the failed write before anything waiting on that write does.
 */
export function endQuietlyWhenStdoutCloses(): void {
  let ending = false;
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code !== "EPIPE") throw err;
    if (ending) return;
    ending = true;
    void exitAfterThreads(0);
  });
}

/** Exits once the encoder threads are closed (exiting during a run on one would abort the process). */
export async function exitAfterThreads(code: number): Promise<never> {
  await closeOpenThreads();
  process.exit(code);
}

export function info(message: string): void {
  process.stderr.write(`${message}\n`);
}

export function table(rows: readonly (readonly (string | number)[])[]): string {
  const cells = rows.map((r) => r.map(String));
  const widths = cells[0].map((_, c) => Math.max(...cells.map((r) => (r[c] ?? "").length)));
  return cells.map((r) => r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join("  ")).join("\n");
}

/** A two-column summary read top to bottom: names left-aligned, values left-aligned after them. */
export function keyValues(rows: readonly (readonly string[])[]): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v ?? ""}`).join("\n");
}

export const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
