// An experiment campaign's arms on the Campaigns page (issue 34): per arm the members exposed, cost
// and what they did after exposure (GET .../campaigns/{id}/experiment), and each arm's uplift over the
// holdout with its 95% interval, charted as floating bars (the interval) with a mark at the estimate.
import { ApiError, call, programPath } from "../api";
import { chart, PALETTE } from "../charts";
import { clear, h, note, num, pct, table } from "../dom";

interface Interval {
  estimate: number;
  low: number;
  high: number;
}

interface Arm {
  arm: string;
  members_exposed: number;
  cost_minor: number;
  orders_per_member: number;
  spend_per_member_minor: number;
  repurchase_rate: number;
  uplift?: { spend_per_member_minor: Interval; repurchase_rate: Interval };
}

type Money = (minor: number) => string;

/** The section, filled when the report answers (the page does not wait for it). */
export function experimentSection(pid: string, campaignId: string, money: Money): HTMLElement {
  const out = h("div", { class: "experiment", id: `experiment-${campaignId}` }, note("Loading the experiment…"));
  void call<{ arms: Arm[] }>("GET", `${programPath(pid)}/campaigns/${encodeURIComponent(campaignId)}/experiment`)
    .then((report) => clear(out, ...experiment(campaignId, report.arms, money)))
    .catch((err) => clear(out, note(err instanceof ApiError ? err.message : String(err), "error")));
  return out;
}

const interval = (i: Interval | undefined, show: (x: number) => string): string =>
  i ? `${show(i.estimate)} (${show(i.low)} to ${show(i.high)})` : "—";

const points = (x: number): string => `${(100 * x).toFixed(1)} pts`;

function experiment(campaignId: string, arms: Arm[], money: Money): HTMLElement[] {
  const compared = arms.filter((a) => a.uplift);
  const out: HTMLElement[] = [
    h("h4", {}, "Experiment"),
    table(
      `Arms of ${campaignId}: after each member's first exposure`,
      ["arm", "members exposed", "cost", "orders / member", "spend / member", "repurchase rate", "spend uplift (95%)", "repurchase uplift (95%)"],
      arms.map((a) => [
        a.arm,
        num(a.members_exposed),
        money(a.cost_minor),
        a.orders_per_member.toFixed(2),
        money(a.spend_per_member_minor),
        pct(a.repurchase_rate),
        interval(a.uplift?.spend_per_member_minor, money),
        interval(a.uplift?.repurchase_rate, points),
      ]),
      "no member exposed yet",
    ),
  ];
  if (!compared.length) {
    out.push(note("No uplift yet: an arm and the holdout each need 2 members exposed."));
    return out;
  }
  const spend = compared.map((a) => a.uplift!.spend_per_member_minor);
  const rate = compared.map((a) => a.uplift!.repurchase_rate);
  const summary = compared
    .map((a, k) => `${a.arm}: spend ${interval(spend[k], money)}, repurchase ${interval(rate[k], points)}`)
    .join("; ");
  out.push(
    chart(`${campaignId}: uplift over the holdout, 95% intervals`, summary, {
      type: "bar",
      data: {
        labels: compared.map((a) => a.arm),
        datasets: [
          // Floating bars: each spans its interval, [low, high].
          { label: "spend / member (interval)", data: spend.map((i) => [i.low, i.high]), backgroundColor: `${PALETTE[0]}99`, yAxisID: "y" },
          { type: "line", label: "spend / member (estimate)", data: spend.map((i) => i.estimate), showLine: false, pointStyle: "line", pointRadius: 14, borderWidth: 3, borderColor: PALETTE[0], yAxisID: "y" },
          { label: "repurchase rate (interval)", data: rate.map((i) => [100 * i.low, 100 * i.high]), backgroundColor: `${PALETTE[1]}99`, yAxisID: "rate" },
          { type: "line", label: "repurchase rate (estimate)", data: rate.map((i) => 100 * i.estimate), showLine: false, pointStyle: "line", pointRadius: 14, borderWidth: 3, borderColor: PALETTE[1], yAxisID: "rate" },
        ],
      },
      options: {
        scales: {
          y: { position: "left", title: { display: true, text: "spend per member vs holdout" }, ticks: { callback: (v) => money(Number(v)) } },
          rate: { position: "right", title: { display: true, text: "repurchase rate vs holdout (points)" }, grid: { drawOnChartArea: false } },
        },
      },
    }),
  );
  return out;
}
