// Chart.js with only the pieces the pages draw (tree-shaken: the first load stays small).
import {
  ArcElement,
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  type ChartConfiguration,
  DoughnutController,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from "chart.js";
import { h } from "./dom";

Chart.register(
  ArcElement,
  BarController,
  BarElement,
  CategoryScale,
  DoughnutController,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
);
Chart.defaults.animation = false; // drawn at once: no motion to sit through, and screenshots are final
Chart.defaults.color = "#1f2933";
Chart.defaults.font.family = "system-ui, sans-serif";

// Colour-blind-safe (Okabe-Ito), each with enough contrast on white for a legend swatch.
export const PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"];

const live: Chart[] = [];

export function destroyCharts(): void {
  while (live.length) live.pop()?.destroy();
}

/** A chart in a figure; the canvas is an image whose label says the figures, for screen readers. */
export function chart(title: string, summary: string, config: ChartConfiguration): HTMLElement {
  const canvas = h("canvas", { role: "img", "aria-label": `${title}: ${summary}` });
  const points = config.data.datasets.reduce((n, d) => n + d.data.length, 0);
  canvas.dataset.points = String(points);
  const fig = h("figure", { class: "chart" }, h("figcaption", {}, title), h("div", { class: "chart-box" }, canvas));
  // Chart.js measures its parent, so it is built once the figure is in the document.
  queueMicrotask(() => {
    config.options = { responsive: true, maintainAspectRatio: false, ...config.options };
    live.push(new Chart(canvas, config));
  });
  return fig;
}

export function describe(entries: [string, number][]): string {
  return entries.length ? entries.map(([k, v]) => `${k} ${v}`).join(", ") : "no data";
}
