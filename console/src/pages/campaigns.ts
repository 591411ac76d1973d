// Campaigns: every campaign of the program with its status, its figures and cost over a range of
// program-local days (GET /programs/{id}/campaigns), a chart per day, and its definition as written.
import { ApiError, call, programPath } from "../api";
import { chart, PALETTE } from "../charts";
import { clear, field, figures, h, note, num, table } from "../dom";
import { facts } from "../programs";
import { setParams } from "../state";
import { experimentSection } from "./experiment";

export interface CampaignFigures {
  applications: number;
  members_reached: number;
  points_given: number;
  points_reversed: number;
  coupons_given: number;
  coupons_used: number;
  coupons_used_minor: number;
  coupons_revoked: number;
  growth_given: number;
  discount_minor: number;
  orders: number;
  gmv_minor: number;
  cost_minor: number;
}

interface CampaignRow extends CampaignFigures {
  campaign_id: string;
  name: string;
  trigger: string;
  status: "scheduled" | "running" | "ended" | "budget_spent";
  budget_left: Record<string, number> | null;
  days: (CampaignFigures & { date: string })[];
}

interface Report {
  from: string;
  to: string;
  campaigns: CampaignRow[];
}

const STATUS: Record<CampaignRow["status"], string> = {
  scheduled: "Scheduled",
  running: "Running",
  ended: "Ended",
  budget_spent: "Budget spent",
};

export function campaignsPage(root: HTMLElement, pid: string, params: URLSearchParams): void {
  // Empty by default: the server picks the range in the program's time zone; the answer fills them.
  const from = h("input", { type: "date", required: true, value: params.get("from") ?? "" });
  const to = h("input", { type: "date", required: true, value: params.get("to") ?? "" });
  const out = h("div", { class: "results", "aria-live": "polite" });
  const form = h(
    "form",
    { class: "inline" },
    field("campaigns-from", "From (first day)", from),
    field("campaigns-to", "To (last day)", to),
    h("button", { type: "submit" }, "Show campaigns"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    setParams({ from: from.value, to: to.value });
    void load(out, pid, from, to);
  });
  root.append(form, out);
  void load(out, pid, from, to);
}

async function load(out: HTMLElement, pid: string, fromInput: HTMLInputElement, toInput: HTMLInputElement): Promise<void> {
  clear(out, note("Loading…"));
  const asked = new URLSearchParams();
  if (fromInput.value) asked.set("from", fromInput.value);
  if (toInput.value) asked.set("to", toInput.value);
  let report: Report;
  let doc: { campaigns?: Record<string, unknown>[] };
  try {
    [report, doc] = await Promise.all([
      call<Report>("GET", `${programPath(pid)}/campaigns${asked.size ? `?${asked}` : ""}`),
      call<{ campaigns?: Record<string, unknown>[] }>("GET", programPath(pid)),
    ]);
  } catch (err) {
    clear(out, note(err instanceof ApiError ? err.message : String(err), "error"));
    return;
  }
  const { money } = await facts(pid);
  fromInput.value = report.from;
  toInput.value = report.to;
  const definitions = new Map((doc.campaigns ?? []).map((c) => [String(c.id), c]));
  const days = range(report.from, report.to);
  const total = (k: keyof CampaignFigures): number => report.campaigns.reduce((n, c) => n + c[k], 0);
  clear(
    out,
    h("h2", {}, `Campaigns ${report.from} to ${report.to}`),
    figures([
      ["Campaigns", num(report.campaigns.length)],
      ["Running", num(report.campaigns.filter((c) => c.status === "running").length)],
      ["Applications", num(total("applications"))],
      ["Cost", money(total("cost_minor"))],
      ["GMV of their orders", money(total("gmv_minor"))],
    ]),
    table(
      "Every campaign in the range",
      ["campaign", "status", "applications", "members reached", "orders", "points net", "coupons used", "discounts", "GMV", "cost", "cost / GMV"],
      report.campaigns.map((c) => [
        h("a", { href: `#campaign-${c.campaign_id}` }, `${c.name} (${c.campaign_id})`),
        STATUS[c.status],
        num(c.applications),
        num(c.members_reached),
        num(c.orders),
        num(c.points_given - c.points_reversed),
        num(c.coupons_used),
        money(c.discount_minor),
        money(c.gmv_minor),
        money(c.cost_minor),
        c.gmv_minor > 0 ? `${((100 * c.cost_minor) / c.gmv_minor).toFixed(1)}%` : "—",
      ]),
      "the program has no campaigns",
    ),
    report.campaigns.map((c) => campaignCard(c, definitions.get(c.campaign_id), days, money, pid)),
  );
}

function campaignCard(
  c: CampaignRow,
  definition: Record<string, unknown> | undefined,
  days: string[],
  money: (minor: number) => string,
  pid: string,
): HTMLElement {
  const heading = `campaign-${c.campaign_id}-h`;
  const budget = c.budget_left ? Object.entries(c.budget_left).map(([k, v]) => `${k}: ${num(v)}`).join(", ") : "no budget";
  const byDay = new Map(c.days.map((d) => [d.date, d]));
  const series = (k: keyof CampaignFigures): number[] => days.map((d) => byDay.get(d)?.[k] ?? 0);
  const cost = series("cost_minor"); // minor units: the axis shows them as money
  return h(
    "section",
    { class: "card", id: `campaign-${c.campaign_id}`, "aria-labelledby": heading, "data-status": c.status },
    h("h3", { id: heading }, `${c.name} (${c.campaign_id}) · ${STATUS[c.status]}`),
    figures([
      ["Trigger", c.trigger],
      ["Applications", num(c.applications)],
      ["Points given", num(c.points_given)],
      ["Points reversed", num(c.points_reversed)],
      ["Coupons given / used", `${num(c.coupons_given)} / ${num(c.coupons_used)}`],
      ["Coupons' money off", money(c.coupons_used_minor)],
      ["Discounts", money(c.discount_minor)],
      ["GMV", money(c.gmv_minor)],
      ["Cost", money(c.cost_minor)],
      ["Budget left", budget],
    ]),
    c.days.length === 0
      ? note("Nothing counted in this range.")
      : chart(
          `${c.name}: cost and applications per day`,
          `${c.days.length} of ${days.length} days counted; cost ${money(c.cost_minor)}, ${c.applications} applications`,
          {
            type: "bar",
            data: {
              labels: days,
              datasets: [
                { label: "cost", data: cost, backgroundColor: PALETTE[1], yAxisID: "y" },
                { label: "applications", data: series("applications"), backgroundColor: PALETTE[0], yAxisID: "count" },
              ],
            },
            options: {
              scales: {
                y: { beginAtZero: true, position: "left", ticks: { callback: (v) => money(Number(v)) } },
                count: { beginAtZero: true, position: "right", ticks: { precision: 0 }, grid: { drawOnChartArea: false } },
              },
            },
          },
        ),
    definition?.experiment ? experimentSection(pid, c.campaign_id, money) : null, // its arms and uplift
    h(
      "details",
      { class: "definition" },
      h("summary", {}, "Definition"),
      h("pre", { class: "code", tabindex: 0, "aria-label": `definition of ${c.campaign_id}` }, JSON.stringify(definition ?? {}, null, 2)),
    ),
  );
}

/** Every day from `from` to `to` (YYYY-MM-DD, inclusive): the days with nothing counted chart as 0. */
function range(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = new Date(`${from}T00:00:00Z`); d <= new Date(`${to}T00:00:00Z`); d.setUTCDate(d.getUTCDate() + 1)) {
    out.push(d.toISOString().slice(0, 10));
  }
  return out;
}
