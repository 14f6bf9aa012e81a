import type { CurvePoint } from "./metrics.js";

export interface PlotSeries {
  name: string;
  color: string;
  points: readonly { cost: number; quality: number }[];
  /** Draw as a line through the points sorted by cost (else as markers only). */
  line: boolean;
  dashed?: boolean;
}

const W = 720;
const H = 480;
const PAD = { left: 70, right: 190, top: 30, bottom: 55 };

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function ticks(lo: number, hi: number, n = 5): number[] {
  return [...Array(n + 1).keys()].map((i) => lo + ((hi - lo) * i) / n);
}

function fmt(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 1 ? v.toFixed(2) : a >= 0.01 ? v.toFixed(3) : v.toExponential(1);
}

/** A small self-contained SVG line/marker plot of quality (y) against cost (x). */
export function costQualitySvg(title: string, series: readonly PlotSeries[]): string {
  const all = series.flatMap((s) => s.points);
  const xMax = Math.max(...all.map((p) => p.cost)) * 1.05 || 1;
  const yLo = Math.max(0, Math.min(...all.map((p) => p.quality)) - 0.02);
  const yHi = Math.min(1.0001, Math.max(...all.map((p) => p.quality)) + 0.02);
  const x = (c: number) => Math.round((PAD.left + (c / xMax) * (W - PAD.left - PAD.right)) * 10) / 10;
  const y = (q: number) => Math.round((H - PAD.bottom - ((q - yLo) / (yHi - yLo || 1)) * (H - PAD.top - PAD.bottom)) * 10) / 10;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${PAD.left}" y="18" font-size="14" font-weight="bold">${esc(title)}</text>`,
  ];
  for (const t of ticks(0, xMax)) {
    out.push(`<line x1="${x(t)}" y1="${PAD.top}" x2="${x(t)}" y2="${H - PAD.bottom}" stroke="#eee"/>`);
    out.push(`<text x="${x(t)}" y="${H - PAD.bottom + 16}" text-anchor="middle">$${fmt(t)}</text>`);
  }
  for (const t of ticks(yLo, yHi)) {
    out.push(`<line x1="${PAD.left}" y1="${y(t)}" x2="${W - PAD.right}" y2="${y(t)}" stroke="#eee"/>`);
    out.push(`<text x="${PAD.left - 6}" y="${y(t) + 4}" text-anchor="end">${(t * 100).toFixed(1)}%</text>`);
  }
  out.push(`<rect x="${PAD.left}" y="${PAD.top}" width="${W - PAD.left - PAD.right}" height="${H - PAD.top - PAD.bottom}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${(PAD.left + W - PAD.right) / 2}" y="${H - 15}" text-anchor="middle">total cost on the test split (USD)</text>`);
  out.push(`<text transform="translate(16 ${(PAD.top + H - PAD.bottom) / 2}) rotate(-90)" text-anchor="middle">quality (mean score)</text>`);
  series.forEach((s, i) => {
    if (s.line && s.points.length > 1) {
      const pts = [...s.points].sort((a, b) => a.cost - b.cost).map((p) => `${x(p.cost)},${y(p.quality)}`);
      out.push(`<polyline points="${pts.join(" ")}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ""}/>`);
    }
    for (const p of s.points) out.push(`<circle cx="${x(p.cost)}" cy="${y(p.quality)}" r="${s.line ? 2 : 5}" fill="${s.color}"/>`);
    const ly = PAD.top + 10 + i * 20;
    out.push(`<rect x="${W - PAD.right + 12}" y="${ly - 8}" width="14" height="10" fill="${s.color}"/>`);
    out.push(`<text x="${W - PAD.right + 32}" y="${ly + 1}">${esc(s.name)}</text>`);
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}

/** Most points a curve is drawn with: a sweep at every setting has thousands, and the plot cannot show them apart. */
export const MAX_PLOTTED = 400;

/** A curve to draw: evenly thinned to MAX_PLOTTED points (the first and last kept), as a line. */
export function asSeries(name: string, color: string, points: readonly CurvePoint[], dashed = false): PlotSeries {
  const step = Math.ceil(points.length / MAX_PLOTTED);
  const drawn = step <= 1 ? points : points.filter((_, i) => i % step === 0 || i === points.length - 1);
  return { name, color, points: drawn, line: true, dashed };
}
