// WikiStream's dashboard: the four use cases of the original design
// (content monitoring, vandalism detection, regional analysis, bot
// activity) and the pipeline's health, over the JSON API, updated live
// from /api/v1/live.
import "./style.css";
import {
  Contributor, getJSON, HourRow, live, LiveUpdate, NotAvailable, Page, Pipeline, Quality, RegionRow, RiskRow, Rows,
  setToken, Summary, token, Unauthorized, WikiRow,
} from "./api";
import * as charts from "./charts";
import {
  ago, bytes, contributionsURL, diffURL, el, hourLabel, kindColors, link, n, pageURL, pct, regionColors, regionNames,
  short, timeLabel,
} from "./format";

token(); // moves ?token= into sessionStorage before anything is fetched

// ---- state, kept in the address's #fragment so a view can be shared ----

const ranges: Record<string, number> = { "6h": 6, "24h": 24, "7d": 168, "30d": 720 };
interface State { range: string; region: string; wiki: string; split: "region" | "wiki" | "total"; kind: string; bots: boolean }
const state: State = { range: "24h", region: "", wiki: "", split: "region", kind: "all", bots: false };
(() => {
  const h = new URLSearchParams(location.hash.slice(1));
  if (h.get("range") && ranges[h.get("range")!]) state.range = h.get("range")!;
  state.region = h.get("region") ?? "";
  state.wiki = h.get("wiki") ?? "";
  const split = h.get("split");
  if (split === "wiki" || split === "total") state.split = split;
})();
function saveState(): void {
  const h = new URLSearchParams();
  h.set("range", state.range);
  if (state.region) h.set("region", state.region);
  if (state.wiki) h.set("wiki", state.wiki);
  if (state.split !== "region") h.set("split", state.split);
  history.replaceState(null, "", `${location.pathname}${location.search}#${h}`);
}

/** lastHour is the newest hour gold holds: ranges end there, so a replayed capture shows too. */
let lastHour: string | null = null;

function window_(): { from: string; to: string } | null {
  if (!lastHour) return null;
  const to = new Date(lastHour);
  const from = new Date(to.getTime() - (ranges[state.range] - 1) * 3600_000);
  return { from: from.toISOString().slice(0, 13) + ":00:00Z", to: to.toISOString().slice(0, 13) + ":00:00Z" };
}
function params(extra: Record<string, string> = {}): Record<string, string> {
  const w = window_()!;
  return { from: w.from, to: w.to, region: state.region, domain: state.wiki, ...extra };
}

// ---- layout ----

const app = document.getElementById("app")!;

function panel(id: string, title: string, sub = ""): { root: HTMLElement; body: HTMLElement; head: HTMLElement; subtitle: HTMLElement } {
  const subtitle = el("p", { class: "sub" }, sub);
  const head = el("header", {}, el("div", {}, el("h2", {}, title), subtitle));
  const body = el("div", { class: "body" });
  const root = el("section", { class: `panel panel-${id}`, id, "data-state": "loading" }, head, body);
  body.append(el("div", { class: "state-msg" }, el("span", { class: "spinner" }), "Loading…"));
  return { root, body, head, subtitle };
}
type Panel = ReturnType<typeof panel>;

function setState(p: Panel, st: "ready" | "empty" | "error" | "unavailable", msg = ""): void {
  p.root.dataset.state = st;
  if (st === "ready") return;
  p.body.replaceChildren(el("div", { class: `state-msg ${st}` }, msg));
}

const header = el("header", { class: "top" });
const kpis = el("section", { class: "kpis", "aria-label": "Key figures" });
const grid = el("main", { class: "grid" });
app.append(header, kpis, grid);

// header: brand, filters, live status
const liveDot = el("span", { class: "live-dot" });
const liveText = el("span", { "data-testid": "live-status" }, "connecting");
const asOf = el("span", { class: "as-of", "data-testid": "as-of" }, "");
const rangeButtons = el("div", { class: "seg", role: "group", "aria-label": "Time range" });
for (const r of Object.keys(ranges)) {
  const b = el("button", { type: "button", "data-range": r }, r);
  b.onclick = () => { state.range = r; saveState(); syncControls(); refresh(); };
  rangeButtons.append(b);
}
const regionSelect = el("select", { "aria-label": "Region" }, el("option", { value: "" }, "All regions"));
for (const r of Object.keys(regionNames)) regionSelect.append(el("option", { value: r }, regionNames[r]));
regionSelect.onchange = () => { state.region = regionSelect.value; state.wiki = ""; saveState(); refresh(); };
const wikiSelect = el("select", { "aria-label": "Wiki" }, el("option", { value: "" }, "All wikis"));
wikiSelect.onchange = () => { state.wiki = wikiSelect.value; saveState(); refresh(); };
header.append(
  el("div", { class: "brand" }, el("span", { class: "logo" }, "W"), el("div", {}, el("h1", {}, "WikiStream"),
    el("p", {}, "Wikipedia edits, live"))),
  el("div", { class: "controls" }, rangeButtons, regionSelect, wikiSelect),
  el("div", { class: "livebox", title: "Updates arrive by themselves after every gold commit" }, liveDot, liveText, asOf),
);
function syncControls(): void {
  for (const b of rangeButtons.querySelectorAll("button")) b.classList.toggle("on", b.dataset.range === state.range);
  regionSelect.value = state.region;
}

// KPI tiles
/** setValue shows s as a KPI's value, its font small enough for the tile to hold it (a month's edits at the live volume: 54,432,000). */
function setValue(value: HTMLElement, s: string): void {
  value.textContent = s;
  value.title = s;
  value.style.setProperty("--chars", String(Math.max(s.length, 7)));
}

function kpi(id: string, label: string): { value: HTMLElement; note: HTMLElement } {
  const value = el("div", { class: "value", "data-testid": `kpi-${id}` }, "–");
  const note = el("div", { class: "note" }, "");
  kpis.append(el("div", { class: `kpi kpi-${id}` }, el("div", { class: "label" }, label), value, note));
  return { value, note };
}
const kEvents = kpi("events", "Edits");
const kRate = kpi("rate", "Edit rate");
const kHuman = kpi("human", "Humans");
const kBots = kpi("bots", "Bots");
const kAnon = kpi("anonymous", "Anonymous");
const kRisk = kpi("risk", "High-risk editors");
const kNew = kpi("new-pages", "New pages");

const pVelocity = panel("velocity", "Edit velocity", "edits per hour");
const velocityChart = el("div", { class: "chart tall" });
const velocityNote = el("p", { class: "chart-note", "data-testid": "velocity-note" });
const splitSeg = el("div", { class: "seg small", role: "group", "aria-label": "Split by" });
for (const [k, label] of [["region", "By region"], ["wiki", "Top wikis"], ["total", "Total"]] as const) {
  const b = el("button", { type: "button", "data-split": k }, label);
  b.onclick = () => { state.split = k; saveState(); for (const x of splitSeg.querySelectorAll("button")) x.classList.toggle("on", x === b); loadVelocity(); };
  if (k === state.split) b.classList.add("on");
  splitSeg.append(b);
}
pVelocity.head.append(splitSeg);

const pShare = panel("share", "Who edits", "humans, bots and anonymous editors (IPs and temporary accounts)");
const pRegions = panel("regions", "Regional comparison", "edits per region by kind of editor");
const pContrib = panel("contributors", "Top contributors", "edits and page creations");
const kindSel = el("select", { "aria-label": "Kind of editor" });
for (const [v, l] of [["all", "Everyone"], ["human", "Humans"], ["bot", "Bots"], ["anonymous", "Anonymous"]]) kindSel.append(el("option", { value: v }, l));
kindSel.onchange = () => { state.kind = kindSel.value; loadContributors(); };
pContrib.head.append(kindSel);
const pPages = panel("pages", "Trending pages", "most edited in the range");
const botsBox = el("input", { type: "checkbox" });
botsBox.checked = !state.bots;
botsBox.onchange = () => { state.bots = !botsBox.checked; loadPages(); };
const pagesSub = () => { pPages.subtitle.textContent = state.bots ? "most edited in the range" : "most edited in the range by people (bots hidden)"; };
pagesSub();
pPages.head.append(el("label", { class: "check" }, botsBox, "hide bots"));
const pRisk = panel("risk", "Risk feed", "editors scored HIGH or MEDIUM by the vandalism rules, with the evidence");
const pQuality = panel("quality", "Data quality", "the newest check run over every table");
const pPipeline = panel("pipeline", "Pipeline health", "stages, lag, freshness and dead letters");

grid.append(
  el("div", { class: "span-8" }, pVelocity.root), el("div", { class: "span-4" }, pShare.root),
  el("div", { class: "span-6" }, pRegions.root), el("div", { class: "span-6" }, pRisk.root),
  el("div", { class: "span-6" }, pContrib.root), el("div", { class: "span-6" }, pPages.root),
  el("div", { class: "span-6" }, pQuality.root), el("div", { class: "span-6" }, pPipeline.root),
);
syncControls();

// ---- token prompt ----

let prompting = false;
function askToken(): void {
  if (prompting) return;
  prompting = true;
  const input = el("input", { type: "password", placeholder: "token", autocomplete: "off", "aria-label": "Token" });
  const form = el("form", { class: "token-form" },
    el("h2", {}, "This WikiStream needs a token"),
    el("p", {}, "The server was started with --http-token. Paste the token (kept for this tab only), or open the dashboard as /?token=…"),
    input, el("button", { type: "submit" }, "Open the dashboard"));
  const overlay = el("div", { class: "overlay" }, form);
  form.onsubmit = (e) => { e.preventDefault(); setToken(input.value); location.reload(); };
  document.body.append(overlay);
  input.focus();
}

function failed(p: Panel, err: unknown): void {
  if (err instanceof DOMException && err.name === "AbortError") return;
  if (err instanceof Unauthorized) { askToken(); setState(p, "error", "A token is needed."); return; }
  if (err instanceof NotAvailable) { setState(p, "unavailable", "Not available from this process (wikistream serve shows the tables only; wikistream run shows the pipeline too)."); return; }
  setState(p, "error", `Could not load: ${(err as Error).message}. It retries with the next update.`);
}

// ---- loaders ----

let ctrl = new AbortController();

async function loadSummary(signal: AbortSignal): Promise<void> {
  const s = await getJSON<Summary>("/api/v1/stats/summary", params(), signal);
  const t = s.totals;
  const all = t.human + t.bots + t.anonymous;
  setValue(kEvents.value, n(t.events));
  kEvents.note.textContent = `on ${n(t.wikis)} wiki${t.wikis === 1 ? "" : "s"}`;
  const minutes = t.hours_with_data * 60;
  const rate = minutes ? t.events / minutes : 0;
  setValue(kRate.value, minutes ? `${rate >= 100 ? Math.round(rate) : rate.toFixed(1)}/min` : "–");
  kRate.note.textContent = `over ${n(t.hours_with_data)} hour${t.hours_with_data === 1 ? "" : "s"} with data`;
  setValue(kHuman.value, n(t.human));
  kHuman.note.textContent = pct(t.human, all);
  setValue(kBots.value, n(t.bots));
  kBots.note.textContent = pct(t.bots, all);
  setValue(kAnon.value, n(t.anonymous));
  kAnon.note.textContent = pct(t.anonymous, all);
  setValue(kRisk.value, n(s.risk.high));
  kRisk.value.classList.toggle("alarm", s.risk.high > 0);
  kRisk.note.textContent = `${n(s.risk.medium)} medium`;
  setValue(kNew.value, n(t.new_pages));
  kNew.note.textContent = `${bytes(t.bytes_added, true)} / ${bytes(-t.bytes_removed, true)}`;

  if (!all) { setState(pShare, "empty", "No edits in this range."); return; }
  setState(pShare, "ready");
  const donut = el("div", { class: "chart donut" });
  const legend = el("ul", { class: "legend" });
  for (const [key, label, v] of [["human", "Humans", t.human], ["bots", "Bots", t.bots], ["anonymous", "Anonymous", t.anonymous]] as const) {
    legend.append(el("li", { "data-kind": key },
      el("span", { class: "swatch", style: `background:${kindColors[key]}` }), el("span", { class: "lbl" }, label),
      el("span", { class: "num", "data-testid": `share-${key}` }, n(v)), el("span", { class: "pct" }, pct(v, all))));
  }
  pShare.body.replaceChildren(el("div", { class: "share" }, donut, legend));
  charts.share(donut, t.human, t.bots, t.anonymous);
}

function hourKey(r: HourRow): number { return Date.parse(`${r.stat_date}T${String(r.stat_hour).padStart(2, "0")}:00:00Z`); }

async function loadVelocity(signal = ctrl.signal): Promise<void> {
  try {
    const w = window_()!;
    const group = state.split === "total" || (state.split === "wiki" && state.wiki) ? "total" : state.split === "wiki" ? "domain" : "region";
    // By wiki: the six with the most edits, and the others summed by the
    // server (domain null), as a month of every wiki's hours is too many rows.
    const res = await getJSON<Rows<HourRow>>("/api/v1/stats/hourly", params(group === "domain" ? { group, top: "6" } : { group }), signal);
    const hours: number[] = [];
    for (let t = Date.parse(w.from); t <= Date.parse(w.to); t += 3600_000) hours.push(t);
    const totals = new Map<string, number>();
    const byKey = new Map<string, Map<number, number>>();
    let sum = 0;
    const perHour = new Map<number, number>();
    for (const r of res.rows) {
      const k = group === "region" ? r.region! : group === "domain" ? r.domain ?? "__rest" : "total";
      totals.set(k, (totals.get(k) ?? 0) + r.events);
      if (!byKey.has(k)) byKey.set(k, new Map());
      byKey.get(k)!.set(hourKey(r), r.events);
      perHour.set(hourKey(r), (perHour.get(hourKey(r)) ?? 0) + r.events);
      sum += r.events;
    }
    if (!sum) { setState(pVelocity, "empty", "No edits in this range."); return; }
    const keys = [...totals.keys()].filter((k) => k !== "__rest").sort((a, b) => totals.get(b)! - totals.get(a)!);
    if (totals.has("__rest")) keys.push("__rest");
    const series: charts.Series[] = [];
    for (const k of keys) {
      const m = byKey.get(k)!;
      const name = k === "__rest" ? "other wikis" : group === "region" ? regionNames[k] ?? k : k === "total" ? (state.wiki || "All wikis") : k;
      series.push({ name, key: k, points: hours.map((h) => [h, m.get(h) ?? 0]) });
    }
    setState(pVelocity, "ready");
    let peak = hours[0], peakN = -1;
    for (const h of hours) if ((perHour.get(h) ?? 0) > peakN) { peak = h; peakN = perHour.get(h) ?? 0; }
    velocityNote.replaceChildren(
      el("span", {}, "Total "), el("strong", { "data-testid": "velocity-total" }, n(sum)), el("span", {}, " edits · peak "),
      el("strong", { "data-testid": "velocity-peak" }, n(peakN)), el("span", {}, ` in the hour of ${hourLabel(new Date(peak).toISOString())}`));
    pVelocity.body.replaceChildren(velocityChart, velocityNote);
    velocityChart.dataset.series = series.map((s) => s.name).join("|");
    charts.velocity(velocityChart, series);
  } catch (e) { failed(pVelocity, e); }
}

async function loadRegions(signal: AbortSignal): Promise<void> {
  const res = await getJSON<Rows<RegionRow>>("/api/v1/stats/regions", params(), signal);
  if (!res.rows.length) { setState(pRegions, "empty", "No edits in this range."); return; }
  setState(pRegions, "ready");
  const chartNode = el("div", { class: "chart" });
  const tbody = el("tbody");
  for (const r of res.rows) {
    tbody.append(el("tr", { "data-region": r.region },
      el("td", {}, el("span", { class: "swatch", style: `background:${regionColors[r.region] ?? "#999"}` }), regionNames[r.region] ?? r.region),
      el("td", { class: "num", "data-testid": "events" }, n(r.events)), el("td", { class: "num" }, n(r.wikis)),
      el("td", { class: "num" }, `${r.human_pct.toFixed(1)}%`), el("td", { class: "num" }, `${r.bot_pct.toFixed(1)}%`),
      el("td", { class: "num" }, `${r.anonymous_pct.toFixed(1)}%`)));
  }
  const table = el("table", { class: "data" },
    el("thead", {}, el("tr", {}, el("th", {}, "Region"), el("th", { class: "num" }, "Edits"), el("th", { class: "num" }, "Wikis"),
      el("th", { class: "num" }, "Human"), el("th", { class: "num" }, "Bot"), el("th", { class: "num" }, "Anon."))), tbody);
  pRegions.body.replaceChildren(chartNode, el("div", { class: "scroll" }, table));
  charts.regions(chartNode, res.rows);
}

async function loadWikis(signal: AbortSignal): Promise<void> {
  const w = window_()!;
  const res = await getJSON<Rows<WikiRow>>("/api/v1/stats/wikis", { from: w.from, to: w.to, region: state.region, limit: "100" }, signal);
  const keep = state.wiki;
  wikiSelect.replaceChildren(el("option", { value: "" }, "All wikis"));
  for (const r of res.rows) wikiSelect.append(el("option", { value: r.domain }, `${r.domain} (${short(r.events)})`));
  if (keep && !res.rows.some((r) => r.domain === keep)) wikiSelect.append(el("option", { value: keep }, keep));
  wikiSelect.value = keep;
}

function badge(text: string, cls: string): HTMLElement { return el("span", { class: `badge ${cls}` }, text); }

async function loadContributors(signal = ctrl.signal): Promise<void> {
  try {
    const res = await getJSON<Rows<Contributor>>("/api/v1/top/contributors", params({ limit: "15", kind: state.kind }), signal);
    if (!res.rows.length) { setState(pContrib, "empty", "No edits in this range."); return; }
    setState(pContrib, "ready");
    const max = res.rows[0].edits;
    const tbody = el("tbody");
    res.rows.forEach((c, i) => {
      const kind = c.is_bot ? badge("bot", "bot") : c.is_anonymous ? badge("anon", "anon") : null;
      tbody.append(el("tr", { "data-user": c.user },
        el("td", { class: "rank" }, String(i + 1)),
        el("td", { class: "who" }, link(contributionsURL(c.top_domain, c.user), c.user, `Contributions on ${c.top_domain}`), kind,
          el("div", { class: "muted small" }, c.wikis > 1 ? `${c.top_domain} + ${c.wikis - 1} more` : c.top_domain)),
        el("td", { class: "num bar-cell" }, el("span", { class: "bar", style: `width:${(100 * c.edits) / max}%` }),
          el("span", { class: "bar-num", "data-testid": "edits" }, n(c.edits))),
        el("td", { class: "num small" }, el("span", { class: "plus" }, bytes(c.bytes_added, true)), " ",
          el("span", { class: "minus" }, bytes(-c.bytes_removed, true)))));
    });
    pContrib.body.replaceChildren(el("div", { class: "scroll" }, el("table", { class: "data" },
      el("thead", {}, el("tr", {}, el("th", {}, "#"), el("th", {}, "Editor"), el("th", { class: "num" }, "Edits"), el("th", { class: "num" }, "Bytes"))), tbody)));
  } catch (e) { failed(pContrib, e); }
}

async function loadPages(signal = ctrl.signal): Promise<void> {
  try {
    pagesSub();
    const res = await getJSON<Rows<Page>>("/api/v1/top/pages", params({ limit: "15", exclude_bots: String(!state.bots) }), signal);
    if (!res.rows.length) { setState(pPages, "empty", state.bots ? "No edits in this range." : "No human edits in this range."); return; }
    setState(pPages, "ready");
    const max = res.rows[0].edits;
    const tbody = el("tbody");
    for (const p of res.rows) {
      tbody.append(el("tr", { "data-page": `${p.domain}|${p.title}` },
        el("td", { class: "who" }, link(pageURL(p.domain, p.title), p.title), p.new_page ? badge("new", "new") : null,
          el("div", { class: "muted small" }, p.domain)),
        el("td", { class: "num bar-cell" }, el("span", { class: "bar", style: `width:${(100 * p.edits) / max}%` }),
          el("span", { class: "bar-num", "data-testid": "edits" }, n(p.edits))),
        el("td", { class: "num" }, n(p.editors)),
        el("td", { class: `num small ${p.bytes_delta < 0 ? "minus" : "plus"}` }, bytes(p.bytes_delta, true)),
        el("td", { class: "num" }, p.revision_new ? link(diffURL(p.domain, p.revision_new, p.revision_old), "diff", "The newest change") : "")));
    }
    pPages.body.replaceChildren(el("div", { class: "scroll" }, el("table", { class: "data" },
      el("thead", {}, el("tr", {}, el("th", {}, "Page"), el("th", { class: "num" }, "Edits"), el("th", { class: "num" }, "Editors"),
        el("th", { class: "num" }, "Net"), el("th", {}, ""))), tbody)));
  } catch (e) { failed(pPages, e); }
}

const factorNames: Record<string, string> = {
  high_velocity: "High velocity", large_deletions: "Large deletions", anonymous_activity: "Anonymous activity", cross_domain: "Cross-wiki",
};
function factorText(f: { name: string; observed: number; threshold: number; detail?: Record<string, unknown> }): string {
  switch (f.name) {
    case "high_velocity": return `${n(f.observed)} edits in one hour (${f.detail?.peak_hour ?? "?"}:00 UTC); over ${n(f.threshold)} scores`;
    case "large_deletions": return `${n(f.observed)} edits removing ≥ ${bytes(Number(f.detail?.min_bytes ?? 1000))}; over ${n(f.threshold)} scores`;
    case "anonymous_activity": return `${f.observed.toFixed(0)}% of edits anonymous; over ${f.threshold}% scores`;
    case "cross_domain": return `${n(f.observed)} wikis, with high velocity; over ${n(f.threshold)} scores`;
  }
  return `${f.observed} (threshold ${f.threshold})`;
}

async function loadRisk(signal: AbortSignal): Promise<void> {
  const w = window_()!;
  const res = await getJSON<Rows<RiskRow>>("/api/v1/risk", { from: w.from, to: w.to, min_level: "MEDIUM", limit: "30" }, signal);
  pRisk.subtitle.textContent = "editors scored HIGH or MEDIUM by the vandalism rules (per day, across wikis)";
  if (!res.rows.length) { setState(pRisk, "empty", "No HIGH or MEDIUM risk editors in this range."); return; }
  setState(pRisk, "ready");
  const list = el("ul", { class: "risk-list" });
  for (const r of res.rows) {
    const domain = r.top_domain ?? "meta.wikimedia.org";
    const factors = el("ul", { class: "factors" });
    for (const f of r.evidence.factors.filter((f) => f.triggered)) {
      factors.append(el("li", {}, el("strong", {}, `${factorNames[f.name] ?? f.name} +${f.points}`), " ", factorText(f)));
    }
    const samples = el("div", { class: "samples" });
    for (const s of r.samples.slice(0, 4)) {
      if (!s.revision_new) continue;
      samples.append(link(diffURL(s.domain, s.revision_new, s.revision_old), `${s.title ?? "diff"} (${bytes(s.length_delta, true)})`, `${s.domain}: the diff of revision ${s.revision_new}`));
    }
    list.append(el("li", { class: `risk ${r.risk_level.toLowerCase()}`, "data-entity": r.entity_id, "data-date": r.stat_date, "data-level": r.risk_level },
      el("div", { class: "risk-head" },
        el("span", { class: `level ${r.risk_level.toLowerCase()}` }, r.risk_level),
        el("span", { class: "score", "data-testid": "score" }, `${r.risk_score}`),
        link(contributionsURL(domain, r.entity_id), r.entity_id, `Contributions on ${domain}`),
        r.is_bot ? badge("bot", "bot") : r.is_anonymous ? badge("anon", "anon") : null,
        r.alert_triggered ? badge("alerted", "alert") : null,
        el("span", { class: "muted small right" }, `${r.stat_date} · ${n(r.total_edits)} edits · ${n(r.domains)} wiki${r.domains === 1 ? "" : "s"}`)),
      factors, samples.childElementCount ? samples : null));
  }
  pRisk.body.replaceChildren(el("div", { class: "scroll tall" }, list));
}

async function loadQuality(signal?: AbortSignal): Promise<void> {
  try {
    const q = await getJSON<Quality>("/api/v1/quality", {}, signal);
    if (!q.latest) { setState(pQuality, "empty", "No data-quality run yet (the checks run every 15 minutes)."); return; }
    setState(pQuality, "ready");
    const l = q.latest;
    const ok = l.failed === 0 && l.errors === 0;
    const head = el("div", { class: `dq-head ${ok ? "ok" : "bad"}` },
      el("span", { class: "big", "data-testid": "dq-verdict" }, ok ? "All checks pass" : `${l.failed + l.errors} check${l.failed + l.errors === 1 ? "" : "s"} failing`),
      el("span", { class: "muted" }, ` · `, el("span", { "data-testid": "dq-passed" }, n(l.passed)), " passed, ",
        el("span", { "data-testid": "dq-failed" }, n(l.failed)), " failed, ", el("span", { "data-testid": "dq-errors" }, n(l.errors)),
        ` errors · run ${timeLabel(l.at)}`));
    const history = el("div", { class: "dq-history", title: "Earlier runs, newest right" });
    for (const r of [...q.runs].reverse()) {
      history.append(el("span", { class: `tick ${r.failed + r.errors ? "bad" : "ok"}`, title: `${timeLabel(r.at)}: ${r.passed} passed, ${r.failed} failed, ${r.errors} errors` }));
    }
    const tbody = el("tbody");
    for (const c of q.checks) {
      tbody.append(el("tr", { "data-check": c.check, "data-status": c.status },
        el("td", {}, el("span", { class: `status ${c.status}` }, c.status)),
        el("td", {}, el("div", {}, c.check), el("div", { class: "muted small" }, `${c.table} · ${c.kind}`)),
        el("td", { class: "small" }, el("div", {}, c.observed ?? ""), el("div", { class: "muted" }, c.expected ? `want: ${c.expected}` : ""))));
    }
    pQuality.body.replaceChildren(head, history, el("div", { class: "scroll" }, el("table", { class: "data" },
      el("thead", {}, el("tr", {}, el("th", {}, ""), el("th", {}, "Check"), el("th", {}, "Observed"))), tbody)));
  } catch (e) { failed(pQuality, e); }
}

async function loadPipeline(): Promise<void> {
  try {
    const p = await getJSON<Pipeline>("/api/v1/pipeline");
    setState(pPipeline, "ready");
    const restarts = p.stages.reduce((a, s) => a + s.restarts, 0);
    const lag = Object.values(p.consumer_lag ?? {}).reduce((a, v) => a + v, 0);
    const gold = p.tables.find((t) => t.table === "gold.hourly_stats");
    const stats = el("div", { class: "stats" },
      stat("Consumer lag", n(lag), "records not yet in bronze", "pipe-lag", lag > 10000 ? "warn" : ""),
      stat("Gold freshness", gold?.age_seconds !== undefined ? ago(gold.age_seconds) : "–", "since the last gold commit", "pipe-freshness",
        (gold?.age_seconds ?? 0) > 600 ? "warn" : ""),
      stat("Dead letters", `${(100 * p.ingest.dlq_share).toFixed(2)}%`, `${n(p.ingest.dead_lettered)} of ${n(p.ingest.read)} read`, "pipe-dlq",
        p.ingest.dlq_share > 0.05 ? "bad" : ""),
      stat("Restarts", n(restarts), "of stages since start", "pipe-restarts", restarts > 0 ? "warn" : ""));
    const stages = el("div", { class: "stages" });
    for (const s of p.stages) {
      const cls = s.healthy || s.status === "finished" ? "ok" : s.status === "backoff" ? "bad" : "warn";
      stages.append(el("span", { class: `stage ${cls}`, "data-stage": s.name, title: s.last_error ? `last error: ${s.last_error}` : `${s.status} since ${timeLabel(s.since)}` },
        el("span", { class: "dot" }), s.name, el("span", { class: "muted" }, ` ${s.status}${s.restarts ? ` · ${s.restarts}↻` : ""}`)));
    }
    const tbody = el("tbody");
    for (const t of p.tables) {
      tbody.append(el("tr", { "data-table": t.table }, el("td", {}, t.table),
        el("td", { class: "num" }, t.age_seconds !== undefined ? `${ago(t.age_seconds)} ago` : "no commit yet")));
    }
    pPipeline.body.replaceChildren(stats, stages, el("div", { class: "scroll" }, el("table", { class: "data compact" },
      el("thead", {}, el("tr", {}, el("th", {}, "Table"), el("th", { class: "num" }, "Last commit"))), tbody)));
  } catch (e) { failed(pPipeline, e); }
}

function stat(label: string, value: string, note: string, id: string, cls: string): HTMLElement {
  return el("div", { class: `stat ${cls}` }, el("div", { class: "label" }, label), el("div", { class: "value", "data-testid": id }, value),
    el("div", { class: "note" }, note));
}

// ---- refresh cycle ----

let refreshes = 0;
let extentKnown = false;

async function refresh(): Promise<void> {
  ctrl.abort();
  ctrl = new AbortController();
  const signal = ctrl.signal;
  lastRefresh = Date.now();
  document.body.classList.add("updating");
  try {
    if (!extentKnown) {
      const s = await getJSON<Summary>("/api/v1/stats/summary", {}, signal);
      lastHour = s.extent.last_hour;
      extentKnown = true;
    }
    if (!lastHour) {
      for (const p of [pVelocity, pShare, pRegions, pContrib, pPages, pRisk]) setState(p, "empty", "No data yet: gold has no rows. Start a source (wikistream run) and this fills in by itself.");
      asOf.textContent = "no data yet";
    } else {
      asOf.textContent = `data up to ${hourLabel(lastHour)}`;
      const guard = (p: Panel, f: (s: AbortSignal) => Promise<void>) => f(signal).catch((e) => failed(p, e));
      await Promise.all([
        guard(pShare, loadSummary), loadVelocity(signal), guard(pRegions, loadRegions), loadContributors(signal),
        loadPages(signal), guard(pRisk, loadRisk), loadWikis(signal).catch(() => {}),
      ]);
    }
  } catch (e) {
    for (const p of [pVelocity, pShare, pRegions, pContrib, pPages, pRisk]) failed(p, e);
  } finally {
    if (!signal.aborted) {
      refreshes++;
      document.body.dataset.refreshes = String(refreshes);
      document.body.classList.remove("updating");
    }
  }
}

// Live: every gold commit re-anchors the range at the newest hour and
// refreshes the panels, at most every 2 s.
let pending: number | undefined;
let lastRefresh = 0;
function onLive(u: LiveUpdate): void {
  document.body.dataset.snapshot = String(u.snapshots["gold.hourly_stats"] ?? "");
  liveText.textContent = `live · ${timeLabel(u.at)}`;
  if (u.hour) {
    const h = `${u.hour}:00:00Z`;
    if (!lastHour || h > lastHour) lastHour = new Date(h).toISOString().replace(".000", "");
    extentKnown = true;
  }
  if (pending !== undefined) return;
  const wait = Math.max(0, 2000 - (Date.now() - lastRefresh));
  pending = window.setTimeout(() => { pending = undefined; lastRefresh = Date.now(); refresh(); }, wait);
}
live(onLive, (s) => {
  liveDot.className = `live-dot ${s}`;
  if (s !== "live") liveText.textContent = s === "unauthorized" ? "token needed" : s;
  if (s === "unauthorized") askToken();
});

refresh();
loadQuality();
loadPipeline();
setInterval(loadPipeline, 5000);
setInterval(() => loadQuality(), 30000);
