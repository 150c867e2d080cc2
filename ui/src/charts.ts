// The charts, from Apache ECharts' modular build: only what is used is
// bundled.
import * as echarts from "echarts/core";
import { BarChart, LineChart, PieChart } from "echarts/charts";
import { GridComponent, LegendComponent, TooltipComponent } from "echarts/components";
import { CanvasRenderer } from "echarts/renderers";

import { axis, kindColors, n, pct, regionColors, regionNames } from "./format";

echarts.use([BarChart, LineChart, PieChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

const font = { fontFamily: "Inter, system-ui, -apple-system, Segoe UI, Roboto, sans-serif", color: "#4a5568" };
const palette = ["#3b6fd4", "#e8892b", "#2f9e6b", "#b05cc6", "#d64550", "#2aa1b3", "#8a94a6"];

const charts = new Map<HTMLElement, echarts.ECharts>();
function chart(node: HTMLElement): echarts.ECharts {
  let c = charts.get(node);
  if (!c) {
    c = echarts.init(node, undefined, { renderer: "canvas" });
    charts.set(node, c);
  }
  return c;
}
new ResizeObserver((entries) => {
  for (const e of entries) charts.get(e.target as HTMLElement)?.resize();
}).observe(document.documentElement);
addEventListener("resize", () => charts.forEach((c) => c.resize()));

export interface Series { name: string; key: string; points: [number, number][] }

/** velocity draws edits per hour, stacked by series (regions or wikis). */
export function velocity(node: HTMLElement, series: Series[]): void {
  const few = (series[0]?.points.length ?? 0) <= 48;
  chart(node).setOption({
    textStyle: font,
    color: palette,
    animationDuration: 300,
    grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
    legend: { top: 0, left: 0, type: "scroll", icon: "roundRect", itemWidth: 12, itemHeight: 8, textStyle: { color: "#4a5568" } },
    tooltip: {
      trigger: "axis",
      valueFormatter: (v: unknown) => `${n(Number(v))} edits`,
    },
    xAxis: { type: "time", axisLine: { lineStyle: { color: "#cbd2dc" } }, axisLabel: { hideOverlap: true,
      formatter: { hour: "{HH}:00", day: "{d} {MMM}", month: "{MMM}" } } },
    yAxis: { type: "value", splitLine: { lineStyle: { color: "#edf0f4" } }, axisLabel: { formatter: axis } },
    series: series.map((s) => ({
      name: s.name, type: "line", stack: "all", data: s.points, showSymbol: few, symbolSize: 5,
      lineStyle: { width: 1.5 }, areaStyle: { opacity: 0.55 }, emphasis: { focus: "series" },
      itemStyle: regionColors[s.key] ? { color: regionColors[s.key] } : undefined,
    })),
  }, { notMerge: true });
}

/** share draws the human / bot / anonymous donut. */
export function share(node: HTMLElement, human: number, bots: number, anonymous: number): void {
  const total = human + bots + anonymous;
  chart(node).setOption({
    textStyle: font,
    animationDuration: 300,
    tooltip: { trigger: "item", formatter: (p: { name: string; value: number }) => `${p.name}: ${n(p.value)} (${pct(p.value, total)})` },
    series: [{
      type: "pie", radius: ["58%", "86%"], avoidLabelOverlap: true, label: { show: false },
      itemStyle: { borderColor: "#fff", borderWidth: 2 },
      data: [
        { name: "Humans", value: human, itemStyle: { color: kindColors.human } },
        { name: "Bots", value: bots, itemStyle: { color: kindColors.bots } },
        { name: "Anonymous", value: anonymous, itemStyle: { color: kindColors.anonymous } },
      ],
    }],
  }, { notMerge: true });
}

/** regions draws edits per region as horizontal bars split by kind of editor. */
export function regions(node: HTMLElement, rows: { region: string; events: number; human_pct: number; bot_pct: number; anonymous_pct: number }[]): void {
  const sorted = [...rows].sort((a, b) => a.events - b.events);
  const part = (key: "human_pct" | "bot_pct" | "anonymous_pct") => sorted.map((r) => Math.round((r.events * r[key]) / 100));
  chart(node).setOption({
    textStyle: font,
    animationDuration: 300,
    grid: { left: 8, right: 24, top: 28, bottom: 4, containLabel: true },
    legend: { top: 0, left: 0, icon: "roundRect", itemWidth: 12, itemHeight: 8, textStyle: { color: "#4a5568" } },
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: (v: unknown) => `${n(Number(v))} edits` },
    xAxis: { type: "value", splitLine: { lineStyle: { color: "#edf0f4" } }, axisLabel: { hideOverlap: true, formatter: axis } },
    yAxis: { type: "category", data: sorted.map((r) => regionNames[r.region] ?? r.region), axisTick: { show: false },
      axisLine: { lineStyle: { color: "#cbd2dc" } } },
    series: [
      { name: "Humans", type: "bar", stack: "r", data: part("human_pct"), itemStyle: { color: "#3b6fd4" }, barMaxWidth: 22 },
      { name: "Bots", type: "bar", stack: "r", data: part("bot_pct"), itemStyle: { color: "#8a5cd6" } },
      { name: "Anonymous", type: "bar", stack: "r", data: part("anonymous_pct"), itemStyle: { color: "#e8892b", borderRadius: [0, 3, 3, 0] } },
    ],
  }, { notMerge: true });
}
