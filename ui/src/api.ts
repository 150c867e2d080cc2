// The dashboard's view of the WikiStream HTTP API (api/openapi.yaml).

const TOKEN_KEY = "wikistream.token";

/** Unauthorized is thrown when the server wants a (different) bearer token. */
export class Unauthorized extends Error {}

/**
 * token takes ?token= from the address once, keeps it in sessionStorage
 * (gone when the tab closes) and removes it from the address bar.
 */
export function token(): string {
  const url = new URL(location.href);
  const fromURL = url.searchParams.get("token");
  if (fromURL) {
    sessionStorage.setItem(TOKEN_KEY, fromURL);
    url.searchParams.delete("token");
    history.replaceState(null, "", url.pathname + url.search + url.hash);
  }
  return sessionStorage.getItem(TOKEN_KEY) ?? "";
}

export function setToken(t: string): void {
  sessionStorage.setItem(TOKEN_KEY, t.trim());
}

function headers(): HeadersInit {
  const t = token();
  return t ? { Authorization: `Bearer ${t}` } : {};
}

/** NotAvailable is a 404: the route is not served by this process. */
export class NotAvailable extends Error {}

export async function getJSON<T>(path: string, params: Record<string, string | undefined> = {}, signal?: AbortSignal): Promise<T> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") q.set(k, v);
  const url = q.toString() ? `${path}?${q}` : path;
  const resp = await fetch(url, { headers: headers(), signal });
  if (resp.status === 401) throw new Unauthorized("this server needs a token");
  if (resp.status === 404) throw new NotAvailable(`${path} is not served here`);
  const body = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new Error(body.error ?? `${path}: HTTP ${resp.status}`);
  return body as T;
}

export interface Filters { from: string; to: string; region: string[]; domain: string[] }
export interface Rows<T> { filters: Filters; rows: T[]; truncated: boolean }

export interface Summary {
  filters: Filters;
  totals: { events: number; human: number; bots: number; anonymous: number; new_pages: number;
    bytes_added: number; bytes_removed: number; wikis: number; hours_with_data: number };
  risk: { high: number; medium: number };
  extent: { first_hour: string | null; last_hour: string | null };
}

export interface HourRow { stat_date: string; stat_hour: number; region?: string; domain?: string | null;
  events: number; human: number; bots: number; anonymous: number; new_pages: number }
export interface RegionRow { region: string; events: number; wikis: number; bot_pct: number; human_pct: number;
  anonymous_pct: number; new_pages: number }
export interface WikiRow { domain: string; region: string; events: number; human: number; bots: number; anonymous: number }
export interface Contributor { user: string; edits: number; wikis: number; top_domain: string; is_bot: boolean;
  is_anonymous: boolean; bytes_added: number; bytes_removed: number; new_pages: number; last_edit: string }
export interface Page { domain: string; title: string; edits: number; editors: number; bytes_delta: number;
  new_page: boolean; last_edit: string; revision_new: number | null; revision_old: number | null }
export interface Factor { name: string; triggered: boolean; points: number; observed: number; threshold: number;
  detail?: Record<string, unknown> }
export interface Sample { domain: string; title: string | null; revision_old: number | null; revision_new: number | null;
  length_delta: number; event_timestamp: string }
export interface RiskRow { stat_date: string; entity_id: string; risk_score: number; risk_level: "HIGH" | "MEDIUM" | "LOW";
  alert_triggered: boolean; is_bot: boolean; is_anonymous: boolean; total_edits: number; domains: number;
  evidence: { edits: number; domains: number; factors: Factor[]; sample_titles: string[]; sample_revisions: number[] };
  top_domain: string | null; samples: Sample[] }
export interface Quality {
  latest: { run_id: string; at: string; passed: number; failed: number; errors: number } | null;
  checks: { check: string; table: string; kind: string; status: "pass" | "fail" | "error"; observed: string | null;
    expected: string | null }[];
  runs: { run_id: string; at: string; passed: number; failed: number; errors: number }[];
}
export interface Pipeline {
  stages: { name: string; status: string; restarts: number; since: string; last_error?: string; healthy: boolean }[];
  consumer_lag: Record<string, number>;
  tables: { table: string; snapshot_id?: number; last_commit?: string; age_seconds?: number }[];
  ingest: { read: number; produced: number; dead_lettered: number; dlq_share: number; dlq_reasons: Record<string, number> };
}
export interface LiveUpdate { at: string; snapshots: Record<string, number>; hour: string;
  regions: { region: string; events: number; bots: number; anonymous: number; human: number }[]; high_risk: number }

/**
 * live reads /api/v1/live with fetch rather than EventSource, which cannot
 * send the Authorization header, and reconnects after a failure. It
 * returns a function that stops it.
 */
export function live(onUpdate: (u: LiveUpdate) => void, onState: (s: "connecting" | "live" | "offline" | "unauthorized") => void): () => void {
  let stopped = false;
  let ctrl = new AbortController();
  const run = async () => {
    let delay = 1000;
    while (!stopped) {
      onState("connecting");
      try {
        const resp = await fetch("/api/v1/live", { headers: { ...headers(), Accept: "text/event-stream" }, signal: ctrl.signal });
        if (resp.status === 401) { onState("unauthorized"); return; }
        if (!resp.ok || !resp.body) throw new Error(`HTTP ${resp.status}`);
        onState("live");
        delay = 1000;
        const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let i: number;
          while ((i = buf.indexOf("\n\n")) >= 0) {
            const frame = buf.slice(0, i);
            buf = buf.slice(i + 2);
            let event = "message";
            const data: string[] = [];
            for (const line of frame.split("\n")) {
              if (line.startsWith("event:")) event = line.slice(6).trim();
              else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
            }
            if (event === "gold" && data.length) {
              try { onUpdate(JSON.parse(data.join("\n")) as LiveUpdate); } catch { /* a bad frame is skipped */ }
            }
          }
        }
      } catch {
        if (stopped) return;
      }
      onState("offline");
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 15000);
    }
  };
  run();
  return () => { stopped = true; ctrl.abort(); ctrl = new AbortController(); };
}
