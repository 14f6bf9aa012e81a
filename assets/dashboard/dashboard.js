// triage dashboard page script: charts (uPlot), live refresh, keyboard labelling, admin actions.
// Plain browser JavaScript served from the package; pages work without it, it adds charts and keys.
(() => {
  // biome-ignore lint/suspicious/noRedundantUseStrict: pages load this as a classic script (not a module), where it is not implied
  "use strict";

  const PALETTE = ["#22a06b", "#2f6fde", "#e8910c", "#8e44d6", "#0e9aa7", "#d1457a", "#6b8e23", "#c2571a", "#4b55c8", "#12806e"];
  const RATE_COLORS = { escalation: "#c4281c", fallback: "#2f6fde", lowConfidence: "#e8910c" };
  const csrf = document.querySelector('meta[name="triage-csrf"]')?.getAttribute("content") ?? "";
  const pageName = document.body.dataset.page;
  const dataEl = document.getElementById("page-data");
  const pageData = dataEl ? JSON.parse(dataEl.textContent || "null") : null;

  // ---- helpers ------------------------------------------------------------------------------------
  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

  async function api(path, body) {
    const res = await fetch(path, {
      method: body === undefined ? "GET" : "POST",
      headers: body === undefined ? {} : { "content-type": "application/json", "x-triage-csrf": csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
    let json = null;
    try {
      json = await res.json();
    } catch {
      // not JSON: reported below by status
    }
    if (!res.ok) throw new Error(json?.error?.message ?? `${res.status} ${res.statusText}`);
    return json;
  }

  let flashTimer;
  function flash(message, isError = false) {
    let el = $(".flash");
    if (!el) {
      el = document.createElement("div");
      el.className = "flash";
      el.setAttribute("role", "status");
      document.body.appendChild(el);
    }
    el.textContent = message;
    el.classList.toggle("error", isError);
    el.classList.add("show");
    clearTimeout(flashTimer);
    flashTimer = setTimeout(() => el.classList.remove("show"), isError ? 6000 : 2500);
  }

  const tierColors = new Map();
  function tierColor(name, order) {
    if (!tierColors.has(name)) {
      const i = order ? order.indexOf(name) : -1;
      tierColors.set(name, PALETTE[(i >= 0 ? i : tierColors.size) % PALETTE.length]);
    }
    return tierColors.get(name);
  }
  function paintTierDots(order) {
    for (const el of $$("[data-tier]")) {
      const dot = el.classList.contains("tier-dot") ? el : null;
      if (dot) dot.style.background = tierColor(el.dataset.tier, order);
    }
  }

  const fmtPct = (v) => (v === null || v === undefined || Number.isNaN(v) ? "n/a" : `${(v * 100).toFixed(1)}%`);
  const fmtUsd = (v) => {
    if (v === null || v === undefined || Number.isNaN(v)) return "n/a";
    const a = Math.abs(v);
    if (a === 0) return "$0";
    if (a < 0.01) return `$${v.toPrecision(2)}`;
    if (a < 1000) return `$${v.toFixed(2)}`;
    return `$${Math.round(v).toLocaleString("en-US")}`;
  };
  const fmtCount = (v) => Number(v).toLocaleString("en-US");
  const utcDate = (ts) => uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC");

  // ---- filters: submit on change (custom ranges wait for Apply) -------------------------------------
  for (const form of $$("form[data-autosubmit]")) {
    const range = form.elements.namedItem("range");
    const custom = $$(".custom-range", form);
    const showCustom = () => custom.forEach((el) => el.classList.toggle("hidden", range?.value !== "custom"));
    form.addEventListener("change", (e) => {
      if (e.target === range) showCustom();
      if (range?.value === "custom" && e.target !== form.elements.namedItem("tag")) return;
      form.requestSubmit();
    });
  }

  // ---- charts ---------------------------------------------------------------------------------------
  function chartWidth(el) {
    return Math.max(300, el.clientWidth);
  }

  /** Stacked areas: each series is drawn as the running sum, top first, the legend shows its own count. */
  function stackedRequests(el, d) {
    const tiers = d.series.tiers;
    const known = JSON.parse(document.body.dataset.tiers || "[]");
    const names = known.length ? known : tiers.map((t) => t.name);
    const sums = [];
    let acc = d.series.t.map(() => 0);
    for (const t of tiers) {
      acc = acc.map((v, i) => v + t.counts[i]);
      sums.push(acc);
    }
    const order = [...tiers.keys()].reverse();
    const data = [d.series.t, ...order.map((k) => sums[k])];
    const series = [
      {},
      ...order.map((k) => ({
        label: tiers[k].name,
        stroke: tierColor(tiers[k].name, names),
        fill: `${tierColor(tiers[k].name, names)}cc`,
        width: 1,
        points: { show: false },
        value: (_u, _v, _s, i) => (i === null || i === undefined ? "–" : fmtCount(tiers[k].counts[i])),
      })),
    ];
    const opts = {
      width: chartWidth(el),
      height: 280,
      tzDate: utcDate,
      series,
      axes: [{}, { label: "requests", size: 60 }],
      scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.05] } },
      legend: { live: true },
      cursor: { points: { show: false } },
    };
    return { plot: new uPlot(opts, data, el) };
  }

  function thresholdLines(u) {
    const ctx = u.ctx;
    for (const [v, color, text] of [
      [0.1, "#e8910c", "10%"],
      [0.2, "#c4281c", "20%"],
    ]) {
      const y = u.valToPos(v, "y", true);
      if (y < u.bbox.top || y > u.bbox.top + u.bbox.height) continue;
      ctx.save();
      ctx.strokeStyle = color;
      ctx.setLineDash([6, 5]);
      ctx.lineWidth = 1.5 * devicePixelRatio;
      ctx.beginPath();
      ctx.moveTo(u.bbox.left, y);
      ctx.lineTo(u.bbox.left + u.bbox.width, y);
      ctx.stroke();
      ctx.fillStyle = color;
      ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
      ctx.fillText(text, u.bbox.left + u.bbox.width - 34 * devicePixelRatio, y - 4 * devicePixelRatio);
      ctx.restore();
    }
  }

  function ratesChart(el, d) {
    const s = d.series;
    const data = [s.t, s.escalation, s.fallback, s.lowConfidence];
    const line = (label, color) => ({ label, stroke: color, width: 2, spanGaps: false, points: { show: false }, value: (_u, v) => fmtPct(v) });
    const opts = {
      width: chartWidth(el),
      height: 260,
      tzDate: utcDate,
      series: [{}, line("escalation", RATE_COLORS.escalation), line("fallback", RATE_COLORS.fallback), line("low confidence", RATE_COLORS.lowConfidence)],
      axes: [{}, { size: 52, values: (_u, vals) => vals.map((v) => `${Math.round(v * 100)}%`) }],
      scales: { y: { range: (_u, _min, max) => [0, Math.max(0.25, (max ?? 0) * 1.1)] } },
      hooks: { draw: [thresholdLines] },
      cursor: { points: { show: false } },
    };
    return { plot: new uPlot(opts, data, el) };
  }

  function spendChart(el, d) {
    const dd = d.daily;
    const savings = dd.baselineUsd.map((b, i) => (b > 0 ? b - dd.comparedSpendUsd[i] : null));
    const data = [dd.t, dd.spendUsd, dd.baselineUsd.map((b) => (b > 0 ? b : null)), savings];
    const bars = uPlot.paths.bars({ size: [0.6, 60] });
    const opts = {
      width: chartWidth(el),
      height: 260,
      tzDate: utcDate,
      series: [
        { value: (_u, v) => (v === null ? "–" : uPlot.fmtDate("{YYYY}-{MM}-{DD}")(utcDate(v))) },
        { label: "spend", stroke: "#2f6fde", fill: "#2f6fde55", paths: bars, points: { show: false }, value: (_u, v) => fmtUsd(v) },
        { label: "top-tier baseline", stroke: "#646b75", width: 1.5, dash: [5, 4], points: { show: true, size: 4 }, value: (_u, v) => fmtUsd(v) },
        { label: "saved", stroke: "#22a06b", width: 2, points: { show: true, size: 4 }, value: (_u, v) => fmtUsd(v) },
      ],
      axes: [{}, { size: 64, values: (_u, vals) => vals.map((v) => fmtUsd(v)) }],
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(0.01, (max ?? 0) * 1.1)] } },
      cursor: { points: { show: false } },
    };
    return { plot: new uPlot(opts, data, el) };
  }

  // ---- overview -----------------------------------------------------------------------------------
  /** One chart per element: redrawn with new data, resized with its card. */
  const charts = new Map();
  function mountChart(el, make, d) {
    const old = charts.get(el);
    old?.plot.destroy();
    old?.observer.disconnect();
    el.textContent = "";
    const { plot } = make(el, d);
    const observer = new ResizeObserver(() => plot.setSize({ width: chartWidth(el), height: plot.height }));
    observer.observe(el);
    charts.set(el, { plot, observer });
  }

  function drawOverview(d) {
    const known = JSON.parse(document.body.dataset.tiers || "[]");
    paintTierDots(known.length ? known : d.series.tiers.map((t) => t.name));
    for (const [id, make] of [
      ["#chart-requests", stackedRequests],
      ["#chart-rates", ratesChart],
      ["#chart-spend", spendChart],
    ]) {
      const el = $(id);
      if (el) mountChart(el, make, d);
    }
  }

  function updateKpis(d) {
    const t = d.totals;
    const set = (kpi, value, note, flag) => {
      const el = $(`[data-kpi="${kpi}"]`);
      if (!el) return;
      $("[data-value]", el).textContent = value;
      if (note !== undefined) $("[data-note]", el).textContent = note;
      if (flag) {
        el.classList.remove("flag-good", "flag-watch", "flag-bad", "flag-none");
        el.classList.add(`flag-${flag}`);
      }
    };
    const flagText = { good: "under 10 %: fine", watch: "10–20 %: watch it", bad: "over 20 %: the classifier is wrong", none: "no requests" };
    set("requests", fmtCount(t.requests));
    set("spend", fmtUsd(t.spendUsd), `${fmtCount(t.pricedRequests)} requests with a known cost`);
    set("savings", fmtUsd(t.savingsUsd), t.savingsRate === null ? "needs prices and token counts" : `${fmtPct(t.savingsRate)} of ${fmtUsd(t.baselineUsd)}`);
    for (const k of ["escalation", "fallback", "lowConfidence"]) set(k, fmtPct(t[k].value), flagText[t[k].flag], t[k].flag);
  }

  const fmtMs = (v) => {
    if (v === null || v === undefined || Number.isNaN(v)) return "n/a";
    if (v < 1) return `${v.toFixed(2)} ms`;
    if (v < 100) return `${v.toFixed(1)} ms`;
    if (v < 10_000) return `${Math.round(v)} ms`;
    return `${(v / 1000).toFixed(1)} s`;
  };

  /** The latency tables' rows (the server draws them first; a partial page's numbers change as it fills). */
  function updateLatency(d) {
    for (const [what, rows] of [
      ["tier", d.latency.byTier],
      ["stage", d.latency.byStage],
    ]) {
      const body = $(`table[data-latency="${what}"] tbody`);
      if (!body) continue;
      body.textContent = "";
      for (const r of rows) {
        const tr = document.createElement("tr");
        const name = document.createElement("td");
        const dot = document.createElement("span");
        dot.className = what === "stage" ? `tier-dot stage-${r.name}` : "tier-dot";
        if (what === "tier") dot.dataset.tier = r.name;
        name.append(dot, r.name);
        tr.append(name);
        for (const v of [fmtCount(r.n), fmtMs(r.p50), fmtMs(r.p95), fmtMs(r.p99)]) {
          const td = document.createElement("td");
          td.className = "num";
          td.textContent = v;
          tr.append(td);
        }
        body.append(tr);
      }
    }
  }

  /** The "still reading older decisions" note: kept current while the server's first build runs, then removed. */
  function updatePartial(d) {
    const box = $("[data-partial]");
    if (!box) return;
    const l = d.covered.loading;
    if (!l) {
      box.remove();
      return;
    }
    const from = d.covered.oldest === null ? "" : `, back to ${new Date(d.covered.oldest).toISOString().slice(0, 16).replace("T", " ")} UTC`;
    $(".notice", box).textContent =
      `Partial: still reading older decisions (${fmtCount(l.read)} of about ${fmtCount(l.of)} read, newest first${from}). The numbers fill in as the page refreshes.`;
  }

  /**
   * Polls the page's JSON while the tab is visible; the server answers from memory, reading only new rows.
   * Every 10 s, or every second while the server says its numbers are partial.
   */
  function live(onData) {
    const badge = $("[data-live]");
    if (!badge) return;
    const url = badge.dataset.live;
    let partial = !!$("[data-partial]");
    let timer;
    const schedule = () => {
      clearTimeout(timer);
      timer = setTimeout(tick, partial ? 1000 : 10_000);
    };
    const tick = async () => {
      if (document.visibilityState !== "visible") return schedule();
      try {
        const d = await api(url);
        onData(d);
        partial = d.covered.loading !== null;
        badge.classList.add("on");
        badge.title = `updated ${new Date().toLocaleTimeString()}; refreshes every ${partial ? "second while partial" : "10 s while visible"}`;
      } catch (err) {
        badge.classList.remove("on");
        badge.title = `refresh failed: ${err.message}`;
      }
      schedule();
    };
    schedule();
    document.addEventListener("visibilitychange", tick);
    badge.classList.add("on");
  }

  // ---- review: one key per label, s skip, u undo (as in the terminal) ------------------------------
  function review(d) {
    const root = $("[data-review]");
    if (!root) return;
    const items = d.items;
    const keys = new Map(d.keys);
    const history = []; // { index, feedbackId | null, label | null }
    let index = 0;
    let busy = false;
    const show = () => {
      const item = items[index];
      $("[data-progress]").style.width = `${Math.round((100 * index) / items.length)}%`;
      if (!item) {
        root.classList.add("hidden");
        const done = $("[data-done]");
        done.classList.remove("hidden");
        const labelled = history.filter((h) => h.feedbackId !== null).length;
        $("[data-summary]", done).textContent = `${labelled} labelled, ${history.length - labelled} skipped. Press u to undo the last one.`;
        return;
      }
      root.classList.remove("hidden");
      $("[data-done]").classList.add("hidden");
      $("[data-position]").textContent = `${index + 1} of ${items.length}`;
      $("[data-text]").textContent = item.text;
      $("[data-routed]").textContent = item.label;
      $("[data-model]").textContent = item.modelLabel;
      $("[data-margin]").textContent = item.margin.toFixed(3);
      $("[data-reasons]").textContent = [...item.reasons, ...(item.duplicates ? [`+${item.duplicates} similar`] : [])].join("; ") || "low margin";
      $("[data-explain]").href = `/dashboard/decisions/${encodeURIComponent(item.requestId)}`;
      for (const b of $$("[data-key]")) b.classList.toggle("suggested", b.dataset.label === item.label);
    };
    const logLine = (item, label, feedbackId) => {
      const li = document.createElement("li");
      li.dataset.feedbackId = String(feedbackId);
      const a = document.createElement("a");
      a.href = `/dashboard/decisions/${encodeURIComponent(item.requestId)}`;
      a.textContent = item.requestId.slice(0, 18);
      const strong = document.createElement("strong");
      strong.textContent = label;
      li.append(a, " → ", strong, " ");
      const note = document.createElement("span");
      note.className = "muted small";
      note.textContent = "just now";
      li.append(note);
      $("[data-labelled]").prepend(li);
      $("[data-none]")?.remove();
    };
    const press = async (key) => {
      if (busy) return;
      const item = items[index];
      if (key === "u") {
        const last = history.pop();
        if (!last) return flash("nothing to undo");
        if (last.feedbackId !== null) {
          busy = true;
          try {
            await api("/dashboard/api/feedback/undo", { feedbackId: last.feedbackId });
            $(`[data-labelled] li[data-feedback-id="${last.feedbackId}"]`)?.remove();
            flash(`undone: ${last.label}`);
          } catch (err) {
            history.push(last);
            return flash(err.message, true);
          } finally {
            busy = false;
          }
        }
        index = last.index;
        return show();
      }
      if (!item) return;
      if (key === "s") {
        history.push({ index, feedbackId: null, label: null });
        index++;
        return show();
      }
      const label = keys.get(key);
      if (label === undefined) return;
      busy = true;
      try {
        const r = await api("/dashboard/api/feedback", { requestId: item.requestId, label });
        history.push({ index, feedbackId: r.feedbackId, label });
        logLine(item, label, r.feedbackId);
        flash(`${label} saved`);
        index++;
        show();
      } catch (err) {
        flash(err.message, true);
      } finally {
        busy = false;
      }
    };
    document.addEventListener("keydown", (e) => {
      if (e.ctrlKey || e.metaKey || e.altKey || e.target.closest?.("input, select, textarea")) return;
      const k = e.key.toLowerCase();
      if (k === "s" || k === "u" || keys.has(k)) {
        e.preventDefault();
        press(k);
      }
    });
    for (const b of $$("[data-key]")) b.addEventListener("click", () => press(b.dataset.key));
    show();
  }

  // ---- models: promote / roll back (admin), drift charts ----------------------------------------------
  for (const b of $$("button[data-action]")) {
    b.addEventListener("click", async () => {
      if (b.dataset.confirm && !window.confirm(b.dataset.confirm)) return;
      b.disabled = true;
      try {
        const body = b.dataset.action === "promote" ? { version: b.dataset.version } : {};
        const r = await api(`/dashboard/api/models/${b.dataset.action}`, body);
        const reload = r.reload ? (r.reload.ok ? `; serving ${r.reload.version}` : `; reload failed: ${r.reload.error}`) : "";
        flash(`now ${r.to} (was ${r.from ?? "none"})${reload}`, r.reload ? !r.reload.ok : false);
        setTimeout(() => location.reload(), 900);
      } catch (err) {
        flash(err.message, true);
        b.disabled = false;
      }
    });
  }

  function novelChart(el, d) {
    const opts = {
      width: chartWidth(el),
      height: 240,
      tzDate: utcDate,
      series: [{}, { label: "novel share", stroke: "#8e44d6", width: 2, points: { show: false }, value: (_u, v) => fmtPct(v) }],
      axes: [{}, { size: 52, values: (_u, vals) => vals.map((v) => `${(v * 100).toFixed(0)}%`) }],
      scales: { y: { range: (_u, _min, max) => [0, Math.max(0.1, (max ?? 0) * 1.2)] } },
      cursor: { points: { show: false } },
    };
    return { plot: new uPlot(opts, [d.t, d.novel], el) };
  }

  function mixChart(el, d) {
    const names = d.mix.map((m) => m.name);
    const sums = [];
    let acc = d.t.map(() => 0);
    for (const m of d.mix) {
      acc = acc.map((v, i) => (m.shares[i] === null ? null : (v ?? 0) + m.shares[i]));
      sums.push(acc);
    }
    const order = [...d.mix.keys()].reverse();
    const opts = {
      width: chartWidth(el),
      height: 240,
      tzDate: utcDate,
      series: [
        {},
        ...order.map((k) => ({
          label: names[k],
          stroke: tierColor(names[k], names),
          fill: `${tierColor(names[k], names)}cc`,
          width: 1,
          points: { show: false },
          value: (_u, _v, _s, i) => (i === null || i === undefined ? "–" : fmtPct(d.mix[k].shares[i])),
        })),
      ],
      axes: [{}, { size: 52, values: (_u, vals) => vals.map((v) => `${Math.round(v * 100)}%`) }],
      scales: { y: { range: [0, 1] } },
      cursor: { points: { show: false } },
    };
    return { plot: new uPlot(opts, [d.t, ...order.map((k) => sums[k])], el) };
  }

  // ---- routing evaluation: a report file opened in the browser -----------------------------------------
  const opener = $("[data-open-report]");
  opener?.addEventListener("change", async () => {
    const file = opener.files?.[0];
    if (!file) return;
    const out = $("[data-opened]");
    try {
      const json = JSON.parse(await file.text());
      const r = await api("/dashboard/api/routing/render", { name: file.name.replace(/\.json$/, ""), file: json });
      out.innerHTML = r.html; // built and escaped by the server
    } catch (err) {
      out.textContent = "";
      flash(`${file.name}: ${err.message}`, true);
    }
  });

  const tierOrder = JSON.parse(document.body.dataset.tiers || "[]");
  paintTierDots(tierOrder);

  if (pageName === "review" && pageData?.items) review(pageData);

  if (pageName === "models" && pageData?.drift && typeof uPlot !== "undefined") {
    const novel = $("#chart-novel");
    const mix = $("#chart-mix");
    if (novel) mountChart(novel, novelChart, pageData.drift);
    if (mix) mountChart(mix, mixChart, pageData.drift);
  }

  if (pageName === "overview" && pageData?.series && typeof uPlot !== "undefined") {
    drawOverview(pageData);
    live((d) => {
      updateKpis(d);
      updateLatency(d);
      updatePartial(d);
      drawOverview(d);
    });
  }
})();
