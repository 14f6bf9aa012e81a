import { join } from "node:path";
import { writeFileAtomic } from "../common/atomic.js";
import type { CurveReport, RoutingReport } from "./evaluate.js";
import { nonDecreasingHull, type CurvePoint } from "./metrics.js";
import { asSeries, costQualitySvg, type PlotSeries } from "./svg.js";
import { describeDial } from "./dial.js";
import type { Interval, SavingUncertainty } from "./bootstrap.js";

/** The one-object summary `--json` prints: the router's figures, then the baselines'. */
export function jsonSummary(r: RoutingReport) {
  const pick = (c: CurveReport) => ({
    apgr: c.apgr,
    cpt50: c.cpt50,
    cpt80: c.cpt80,
    aiq: c.aiq,
    saving95: c.saving95,
    saving95Net: c.saving95Net,
    saving98: c.saving98,
    hull: c.hull,
  });
  return {
    ...pick(r.router),
    weak: r.weak,
    strong: r.strong,
    trainPrompts: r.trainPrompts,
    testPrompts: r.testPrompts,
    router: { method: r.router.method, params: r.router.params, cvRepeats: r.router.cvRepeats, atTarget: r.router.atTarget, atDial: r.router.atDial },
    ...(r.uncertainty ? { uncertainty: r.uncertainty } : {}),
    baselines: {
      random: pick(r.baselines.random),
      rules: { ...pick(r.baselines.rules), atTarget: r.baselines.rules.atTarget },
      zero: pick(r.baselines.zero),
      cheapest: r.baselines.cheapest,
      strongest: r.baselines.strongest,
      oracle: r.baselines.oracle,
    },
    notes: r.notes,
  };
}

/** A share as a percentage with one decimal ("n/a" for none): every figure of the reports. */
export const pct = (v: number | null) => (v === null ? "n/a" : `${(v * 100).toFixed(1)}%`);

/** Dollars to four significant digits: test-set totals differ below the cent, so cents would hide the differences. */
export function usd(v: number): string {
  if (v === 0) return "$0";
  if (Math.abs(v) >= 1000) return `$${v.toFixed(0)}`;
  return `$${Number(v.toPrecision(4))}`;
}

/** What each figure means, one line each (the text output and the Markdown report's definitions). */
export const METRIC_LINES: readonly (readonly [string, string])[] = [
  [
    "APGR",
    "quality gained over always-weak, as a share of what always-strong gains, averaged over every share of strong calls on the router's own curve (higher is better; a random mix scores 50%, below it is worse than random)",
  ],
  ["CPT(50%)", "share of calls the router must send to the strong model to get half of the quality the strong model adds over the weak one (lower is better)"],
  ["CPT(80%)", "share of calls the router must send to the strong model to get 80% of the quality the strong model adds over the weak one (lower is better)"],
  ["AIQ", "area under the best quality-for-cost curve between the weak and the strong model's cost, as a share of the range (higher is better)"],
  ["saving@95%", "cost saved against always-strong at the cheapest dial setting reaching 95% of its quality (n/a: never reached); the JSON also gives it net of random mixing"],
];

/** `eval-routing`'s text output: who was compared, a table of the figures, then what each one means. */
export function textReport(r: RoutingReport): string {
  const b = r.baselines;
  const rows: [string, CurveReport][] = [
    [`outcome router (${r.router.method})`, r.router],
    ["random mix", b.random],
    ["length+keyword rules", b.rules],
  ];
  const header = ["", "APGR", "CPT(50%)", "CPT(80%)", "AIQ", "saving@95%"];
  const cells = [header, ...rows.map(([name, c]) => [name, pct(c.apgr), pct(c.cpt50), pct(c.cpt80), pct(c.aiq), pct(c.saving95)])];
  const widths = header.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  const table = cells.map((row) => row.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join("  "));
  const t = r.router.atTarget;
  const keyWidth = Math.max(...METRIC_LINES.map(([k]) => k.length));
  return [
    `${r.trainPrompts} train and ${r.testPrompts} test prompts; weak = ${r.weak} (cheapest), strong = ${r.strong} (best quality)`,
    "",
    ...table,
    "",
    ...(r.uncertainty ? [uncertaintyLine(r.uncertainty), ""] : []),
    `on the test prompts: always ${r.weak} ${pct(b.cheapest.quality)} quality for ${usd(b.cheapest.cost)}, always ${r.strong} ${pct(b.strongest.quality)} for ${usd(b.strongest.cost)}, ` +
      `the router at 95% of ${r.strong}'s quality ${pct(t.quality)} for ${usd(t.cost)} (${pct(t.strongFraction)} of calls to ${r.strong})`,
    "",
    ...METRIC_LINES.map(([k, v]) => `${k.padEnd(keyWidth)}  ${v}`),
  ].join("\n");
}

export function markdownReport(title: string, r: RoutingReport, svgName: string): string {
  const row = (name: string, c: CurveReport) =>
    `| ${name} | ${pct(c.apgr)} | ${pct(c.cpt50)} | ${pct(c.cpt80)} | ${pct(c.aiq)} | ${pct(c.saving95)} | ${pct(c.saving95Net)} | ${pct(c.saving98)} |`;
  const hullRow = (name: string, c: CurveReport) =>
    `| ${name} | ${pct(c.hull.apgr)} | ${pct(c.hull.cpt50)} | ${pct(c.hull.cpt80)} | ${pct(c.hull.saving95)} | ${pct(c.hull.saving98)} |`;
  const t = r.router.atTarget;
  const rt = r.baselines.rules.atTarget;
  const b = r.baselines;
  return [
    `# Tier routing from outcomes: ${title}`,
    "",
    `Models: ${r.models.join(", ")}. Weak: **${r.weak}**, strong: **${r.strong}** (${r.definitions}).`,
    `Train ${r.trainPrompts} prompts, test ${r.testPrompts} prompts. Router: per-model success estimate "${r.router.method}" ${JSON.stringify(r.router.params)}, chosen by 5-fold cross-validation on train only (out-of-fold staircase AIQ: ${r.router.cv.map((c) => `${c.method} ${pct(c.aiqStaircase)}`).join(", ")}).`,
    "",
    `![cost vs quality](${svgName})`,
    "",
    "| router | APGR | CPT(50%) | CPT(80%) | AIQ | saving @95% | net of random | saving @98% |",
    "|---|---|---|---|---|---|---|---|",
    row(`outcome router (${r.router.method})`, r.router),
    row("random mix", b.random),
    row("length+keyword rules", b.rules),
    row("zero router (mixes of single models)", b.zero),
    "",
    ...(r.uncertainty ? [uncertaintyLine(r.uncertainty), ""] : []),
    "Reachable by mixing with random (the same figures on the upper convex hull of each curve, never below random):",
    "",
    "| router | APGR | CPT(50%) | CPT(80%) | saving @95% | saving @98% |",
    "|---|---|---|---|---|---|",
    hullRow(`outcome router (${r.router.method})`, r.router),
    hullRow("length+keyword rules", b.rules),
    "",
    "| fixed policy | quality | cost |",
    "|---|---|---|",
    `| always ${r.weak} (cheapest) | ${pct(b.cheapest.quality)} | ${usd(b.cheapest.cost)} |`,
    `| always ${r.strong} (strongest) | ${pct(b.strongest.quality)} | ${usd(b.strongest.cost)} |`,
    `| oracle (cheapest correct) | ${pct(b.oracle.quality)} | ${usd(b.oracle.cost)} |`,
    // The cheapest and the strongest have their rows above.
    ...(r.models.length > 2
      ? Object.entries(b.single)
          .filter(([m]) => m !== r.weak && m !== r.strong)
          .map(([m, qc]) => `| always ${m} | ${pct(qc.quality)} | ${usd(qc.cost)} |`)
      : []),
    "",
    `At 95% of the strong model's quality (cheapest such dial setting; best setting if never reached):`,
    `- router: quality ${pct(t.quality)}, cost ${usd(t.cost)}, strong calls ${pct(t.strongFraction)}; against the oracle: ${t.costInflation} prompts cost more than needed, ${t.qualityLoss} lost an answer some model had.`,
    `- rules: quality ${pct(rt.quality)}, cost ${usd(rt.cost)}, strong calls ${pct(rt.strongFraction)}; ${rt.costInflation} cost inflations, ${rt.qualityLoss} quality losses.`,
    atDialLine(r),
    "",
    r.router.atDial.rule === "lambda"
      ? "Dial (lambda: take the model with the best predicted quality − λ × its cost relative to the dearest), a sample of the sweep:"
      : "Dial (tolerance: take the cheapest model predicted within this much of the best), a sample of the sweep:",
    "",
    `| ${r.router.atDial.rule === "lambda" ? "λ" : "tolerance"} | strong calls | quality | cost | PGR |`,
    "|---|---|---|---|---|",
    ...dialSample(r.router.points).map(
      (p) =>
        `| ${p.dial.toFixed(3)} | ${pct(p.strongFraction)} | ${pct(p.quality)} | ${usd(p.cost)} | ${pct((p.quality - r.anchors.weakQuality) / (r.anchors.strongQuality - r.anchors.weakQuality))} |`,
    ),
    "",
    "What the figures mean:",
    "",
    ...METRIC_LINES.map(([k, v]) => `- **${k}**: ${v}.`),
    "",
    "Definitions: PGR = (quality − weak) / (strong − weak); APGR = area under the router's own PGR curve vs strong-call fraction on [0, 1];",
    "CPT(x) = strong-call fraction where that curve first reaches PGR x (RouteLLM; below 50% APGR = worse than random). AIQ = area under the",
    "non-decreasing convex hull of quality vs cost between the weak and strong models' costs, divided by that range (RouterBench).",
    "Saving @x = 1 − cost / strong model's cost at the cheapest dial setting reaching x × strong quality; net of random = minus what mixing",
    "weak and strong at random saves there. Curves include the all-weak and all-strong settings; hull figures need two settings mixed per request.",
    "",
    ...(r.notes.length ? ["Notes:", ...r.notes.map((n) => `- ${n}`), ""] : []),
  ].join("\n");
}

/** A bootstrap interval, "41.8% to 57.4%". */
export const span = (i: Interval) => `${pct(i.low)} to ${pct(i.high)}`;
const signed = (v: number | null) => (v === null ? "n/a" : `${v >= 0 ? "+" : ""}${(v * 100).toFixed(1)}`);

/** Saving at 95% with its bootstrap intervals, and how often the router saved at least as much as each baseline. */
export function uncertaintyLine(u: SavingUncertainty): string {
  const vs = (name: string, v: SavingUncertainty["versus"]["zero"]) => `${name} ${signed(v.low)} to ${signed(v.high)} points (at least as much in ${pct(v.atLeast)} of draws)`;
  return (
    `saving@${Math.round(u.share * 100)}% over ${u.resamples} bootstrap draws of the test prompts (95% intervals): router ${span(u.router)}, zero router ${span(u.zero)}, rules ${span(u.rules)}, random ${span(u.random)}; ` +
    `router minus ${vs("zero router", u.versus.zero)}, ${vs("rules", u.versus.rules)}, ${vs("random", u.versus.random)}`
  );
}

/** The router at its dial setting, chosen on train alone (what a served router with that setting does). */
function atDialLine(r: RoutingReport): string {
  const d = r.router.atDial;
  const calls = Object.entries(d.calls)
    .filter(([, n]) => n > 0)
    .map(([m, n]) => `${m} ${n}`)
    .join(", ");
  return (
    `- router at the dial (${describeDial(d.dial)}, ${d.rule} ${d.setting.toPrecision(3)}; promised out of fold on train: ${pct(d.calibrated.quality)} of the strongest's quality at ${pct(d.calibrated.cost)} of its cost): ` +
    `quality ${pct(d.quality)} (${pct(d.relativeQuality)} of the strongest), cost ${usd(d.cost)}, saving ${pct(d.saving)}; calls: ${calls}.`
  );
}

/** About ten evenly spaced settings of the sweep, for the report's dial table. */
function dialSample(points: readonly CurvePoint[]): CurvePoint[] {
  const step = Math.max(1, Math.floor(points.length / 10));
  return points.filter((_, i) => i % step === 0 || i === points.length - 1);
}

export function reportSvg(title: string, r: RoutingReport): string {
  const b = r.baselines;
  const series: PlotSeries[] = [
    asSeries(`outcome router (${r.router.method})`, "#1f77b4", r.router.points),
    asSeries("rules (length cut-off)", "#ff7f0e", b.rules.points),
    asSeries("random mix", "#7f7f7f", b.random.points, true),
    ...(r.models.length > 2 ? [{ ...asSeries("zero router (model hull)", "#8c564b", zeroHull(r)), dashed: true }] : []),
    { name: `always ${short(r.weak)}`, color: "#2ca02c", points: [b.cheapest], line: false },
    { name: `always ${short(r.strong)}`, color: "#d62728", points: [b.strongest], line: false },
    { name: "oracle", color: "#9467bd", points: [b.oracle], line: false },
  ];
  if (r.models.length > 2)
    series.push({
      name: "other single models",
      color: "#bcbd22",
      points: Object.entries(b.single)
        .filter(([m]) => m !== r.weak && m !== r.strong)
        .map(([, qc]) => qc),
      line: false,
    });
  return costQualitySvg(title, series);
}

/** The single models' non-decreasing hull, drawn as RouterBench draws its zero router. */
function zeroHull(r: RoutingReport): CurvePoint[] {
  return nonDecreasingHull(r.baselines.zero.points.map((p) => ({ x: p.cost, y: p.quality }))).map((h) => ({ dial: NaN, cost: h.x, quality: h.y, strongFraction: NaN }));
}

function short(model: string): string {
  const s = model.split("/").pop() ?? model;
  return s.length > 22 ? `${s.slice(0, 21)}…` : s;
}

/** Writes <dir>/<name>.json, .md and .svg (each atomically). */
export function writeRoutingReport(dir: string, name: string, title: string, r: RoutingReport): { json: string; md: string; svg: string } {
  const paths = { json: join(dir, `${name}.json`), md: join(dir, `${name}.md`), svg: join(dir, `${name}.svg`) };
  writeFileAtomic(paths.json, JSON.stringify({ summary: jsonSummary(r), report: r }, null, 2) + "\n");
  writeFileAtomic(paths.svg, reportSvg(title, r));
  writeFileAtomic(paths.md, markdownReport(title, r, `${name}.svg`));
  return paths;
}
