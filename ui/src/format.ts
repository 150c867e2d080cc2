// Numbers, bytes, times and links as people read them.

const int = new Intl.NumberFormat("en-US");
const compact = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 });

/** n formats a count with thousands separators: 12,345. */
export const n = (v: number | null | undefined): string => int.format(v ?? 0);

/** short formats a count compactly above 100,000: 1.2M. */
export const short = (v: number): string => (Math.abs(v) >= 100_000 ? compact.format(v) : int.format(v));

export const pct = (part: number, whole: number): string =>
  whole > 0 ? `${(Math.round((1000 * part) / whole) / 10).toFixed(1)}%` : "–";

/** bytes formats a byte count: 1.2 MB, with a sign when signed. */
export function bytes(v: number, signed = false): string {
  const sign = signed && v > 0 ? "+" : v < 0 ? "−" : "";
  let a = Math.abs(v);
  const units = ["B", "kB", "MB", "GB", "TB"];
  let u = 0;
  while (a >= 1000 && u < units.length - 1) { a /= 1000; u++; }
  return `${sign}${u === 0 ? a : a.toFixed(a < 10 ? 1 : 0)} ${units[u]}`;
}

/** hourLabel: "25 Jan 17:00 UTC". */
export function hourLabel(iso: string): string {
  const d = new Date(iso);
  return `${d.getUTCDate()} ${d.toLocaleString("en-US", { month: "short", timeZone: "UTC" })} ${String(d.getUTCHours()).padStart(2, "0")}:00 UTC`;
}

/** timeLabel: "17:04:05 UTC". */
export const timeLabel = (iso: string): string => new Date(iso).toISOString().slice(11, 19) + " UTC";

/** ago: "12 s", "4 min", "3 h", "2 d". */
export function ago(seconds: number): string {
  if (seconds < 90) return `${Math.max(0, Math.round(seconds))} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} d`;
}

/** The wiki's own links. */
const base = (domain: string) => `https://${domain}`;
export const contributionsURL = (domain: string, user: string) =>
  `${base(domain)}/wiki/Special:Contributions/${encodeURIComponent(user.replace(/ /g, "_"))}`;
export const pageURL = (domain: string, title: string) => `${base(domain)}/wiki/${encodeURIComponent(title.replace(/ /g, "_")).replace(/%2F/g, "/").replace(/%3A/g, ":")}`;
export function diffURL(domain: string, revNew: number, revOld: number | null): string {
  return revOld ? `${base(domain)}/w/index.php?diff=${revNew}&oldid=${revOld}` : `${base(domain)}/w/index.php?oldid=${revNew}`;
}

export const regionNames: Record<string, string> = {
  americas: "Americas", europe: "Europe", asia_pacific: "Asia-Pacific", middle_east: "Middle East", other: "Other / multilingual",
};
export const regionColors: Record<string, string> = {
  americas: "#3b6fd4", europe: "#e8892b", asia_pacific: "#2f9e6b", middle_east: "#b05cc6", other: "#8a94a6",
};
export const kindColors = { human: "#3b6fd4", bots: "#8a5cd6", anonymous: "#e8892b" };

/** el builds an element: el("td", {class: "num"}, "12"). */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string | null | undefined)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

export function link(href: string, text: string, title?: string): HTMLAnchorElement {
  const a = el("a", { href, target: "_blank", rel: "noopener noreferrer" }, text);
  if (title) a.title = title;
  return a;
}

/** axis formats an axis label compactly: 12K. */
export const axis = (v: number): string => compact.format(v);
