// The Health page's referral panel: GET /programs/{id}/referrals for the page's range (counted from the
// table's stream): the funnel (enrolled by referral, converted, rewarded, refused by reason) and the
// top referrers.
import { ApiError, call, programPath } from "../api";
import { chart, describe, PALETTE } from "../charts";
import { clear, figures, note, num, table } from "../dom";

interface Referrals {
  enrolled: number;
  converted: number;
  cancelled: number;
  rewards: { points: number; coupons: number };
  refused: Record<string, number>;
  top_referrers: { member_id: string; converted: number }[];
}

export async function loadReferrals(section: HTMLElement, pid: string, range: string): Promise<void> {
  const heading = section.firstElementChild as HTMLElement;
  let r: Referrals;
  try {
    r = await call<Referrals>("GET", `${programPath(pid)}/referrals?${range}`);
  } catch (err) {
    clear(section, heading, note(err instanceof ApiError ? err.message : String(err), "error"));
    return;
  }
  const refused = Object.entries(r.refused);
  const refusedTotal = refused.reduce((n, [, v]) => n + v, 0);
  const funnel: [string, number][] = [
    ["enrolled by referral", r.enrolled],
    ["converted", r.converted],
    ["rewarded (kept)", r.converted - r.cancelled],
    ["refused", refusedTotal],
  ];
  clear(
    section,
    heading,
    figures([
      ["Enrolled by referral", num(r.enrolled)],
      ["Converted", num(r.converted)],
      ["Cancelled by a refund", num(r.cancelled)],
      ["Refused", num(refusedTotal)],
      ["Rewards", `${num(r.rewards.points)} pts, ${num(r.rewards.coupons)} coupons`],
    ]),
    funnelChart(funnel),
    table("Refused, by reason", ["reason", "refusals"], refused.map(([k, v]) => [k, num(v)]), "no refusals"),
    table(
      "Top referrers",
      ["member", "referees converted"],
      r.top_referrers.map((t) => [t.member_id, num(t.converted)]),
      "no referral converted in the range",
    ),
  );
}

function funnelChart(funnel: [string, number][]): HTMLElement {
  return chart("Referral funnel", describe(funnel), {
    type: "bar",
    data: {
      labels: funnel.map(([k]) => k),
      datasets: [{ label: "referees", data: funnel.map(([, v]) => v), backgroundColor: PALETTE[3] }],
    },
    options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
}
