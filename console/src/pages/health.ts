import { ApiError, call, enc, programPath } from "../api";
import { chart, describe, PALETTE } from "../charts";
import { clear, field, figures, h, note, num, pct, table } from "../dom";
import { facts } from "../programs";
import { setParams } from "../state";
import { loadReferrals } from "./referrals";

interface Health {
  from: string;
  to: string;
  members: number;
  new_members: number;
  active_rate: number | null;
  coupon_redemption_rate: number | null;
  points_consumption_rate: number | null;
  repurchase_rate: number | null;
  member_gmv_minor: number;
  orders: number;
  points_liability: { points: number; worth_minor: number };
  members_per_tier: Record<string, number>;
  members_per_segment: Record<string, number>;
  clv_minor: number;
  guest_gmv_minor: number;
  member_gmv_share: number | null;
  guest_customers: number;
  converted_guests: number;
  conversion_rate: number | null;
  new_members_by_channel: Record<string, number>;
}

export interface Day {
  day: string;
  members: number;
  new_members: number;
  orders: number;
  member_gmv_minor: number;
  points_earned: number;
  points_redeemed: number;
  points_expired: number;
  points_reversed: number;
  points_adjusted: number;
  coupons_issued: number;
  coupons_used: number;
  points_liability: number;
}

interface CampaignFigures {
  campaign_id: string;
  applications: number;
  members_reached: number;
  points_given: number;
  coupons_given: number;
  growth_given: number;
  budget_left: Record<string, number> | null;
}

export function health(root: HTMLElement, pid: string, params: URLSearchParams): void {
  // Empty by default: the server picks the range in the program's time zone (the last 30 local days),
  // which the browser's calendar may not share; the answer fills the inputs.
  const from = h("input", { type: "date", required: true, value: params.get("from") ?? "" });
  const to = h("input", { type: "date", required: true, value: params.get("to") ?? "" });
  const out = h("div", { class: "results", "aria-live": "polite" });
  const form = h(
    "form",
    { class: "inline" },
    field("health-from", "From (first day)", from),
    field("health-to", "To (last day)", to),
    h("button", { type: "submit" }, "Show figures"),
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
  let figs: Health;
  const program = facts(pid);
  try {
    figs = await call<Health>("GET", `${programPath(pid)}/health${asked.size ? `?${asked}` : ""}`);
  } catch (err) {
    clear(out, note(err instanceof ApiError ? err.message : String(err), "error"));
    return;
  }
  const { money, tier } = await program;
  fromInput.value = figs.from;
  toInput.value = figs.to;
  const range = `from=${enc(figs.from)}&to=${enc(figs.to)}`;
  const tiers = Object.entries(figs.members_per_tier).map(([id, n]): [string, number] => [tier(id), n]);
  const segments = Object.entries(figs.members_per_segment).filter(([, n]) => n > 0);
  const channels = Object.entries(figs.new_members_by_channel).filter(([, n]) => n > 0);
  const days = h("section", { "aria-labelledby": "days-h" }, h("h2", { id: "days-h" }, "Per day"), note("Loading…"));
  const campaigns = h("section", { "aria-labelledby": "camp-h" }, h("h2", { id: "camp-h" }, "Campaigns"));
  const referrals = h("section", { "aria-labelledby": "ref-h" }, h("h2", { id: "ref-h" }, "Referral"), note("Loading…"));
  clear(
    out,
    h("h2", {}, `Figures ${figs.from} to ${figs.to}`),
    figures([
      ["Members", num(figs.members)],
      ["New members", num(figs.new_members)],
      ["Active rate", pct(figs.active_rate)],
      ["Repurchase rate", pct(figs.repurchase_rate)],
      ["Coupon redemption rate", pct(figs.coupon_redemption_rate)],
      ["Points consumption rate", pct(figs.points_consumption_rate)],
      ["Orders", num(figs.orders)],
      ["Member GMV", money(figs.member_gmv_minor)],
      ["CLV per member", money(figs.clv_minor)],
      ["Points liability", `${num(figs.points_liability.points)} pts (${money(figs.points_liability.worth_minor)})`],
      ["Guest GMV", money(figs.guest_gmv_minor)],
      ["Member share of GMV", pct(figs.member_gmv_share)],
      ["Guest customers", num(figs.guest_customers)],
      ["Converted guests", num(figs.converted_guests)],
      ["Conversion rate", pct(figs.conversion_rate)],
    ]),
    h(
      "div",
      { class: "charts" },
      chart("Members per tier", describe(tiers), {
        type: "bar",
        data: {
          labels: tiers.map(([k]) => k),
          datasets: [{ label: "members", data: tiers.map(([, v]) => v), backgroundColor: PALETTE[0] }],
        },
        options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
      }),
      segments.length === 0
        ? h("figure", { class: "chart" }, h("figcaption", {}, "Members per RFM segment"), note("No member has an RFM segment yet."))
        : chart("Members per RFM segment", describe(segments), {
        type: "doughnut",
        data: {
          labels: segments.map(([k]) => k),
          datasets: [{ label: "members", data: segments.map(([, v]) => v), backgroundColor: PALETTE }],
        },
        options: { plugins: { legend: { position: "right" } } },
      }),
      // Members enrolled without a channel are not in it (README: new_members_by_channel).
      channels.length === 0
        ? h("figure", { class: "chart" }, h("figcaption", {}, "New members by channel"), note("No member enrolled with a channel in this range."))
        : chart("New members by channel", describe(channels), {
        type: "bar",
        data: {
          labels: channels.map(([k]) => k),
          datasets: [{ label: "new members", data: channels.map(([, v]) => v), backgroundColor: PALETTE[3] }],
        },
        options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
      }),
    ),
    days,
    referrals,
    campaigns,
  );
  void loadDays(days, pid, range);
  void loadReferrals(referrals, pid, range);
  void loadCampaigns(campaigns, pid);
}

async function loadDays(section: HTMLElement, pid: string, range: string): Promise<void> {
  const heading = section.firstElementChild as HTMLElement;
  let series: { days: Day[] };
  try {
    series = await call<{ days: Day[] }>("GET", `${programPath(pid)}/health/days?${range}`);
  } catch (err) {
    clear(section, heading, note(err instanceof ApiError ? err.message : String(err), "error"));
    return;
  }
  const labels = series.days.map((d) => d.day);
  const sum = (k: keyof Day): number => series.days.reduce((n, d) => n + Number(d[k]), 0);
  const last = series.days.at(-1);
  clear(
    section,
    heading,
    h(
      "div",
      { class: "charts" },
      chart(
        "Members and new members per day",
        `${labels.length} days; ${last ? `members on ${last.day}: ${last.members}` : "no data"}; new members in range: ${sum("new_members")}`,
        {
          type: "line",
          data: {
            labels,
            datasets: [
              { label: "members", data: series.days.map((d) => d.members), borderColor: PALETTE[0], backgroundColor: PALETTE[0] },
              { label: "new members", data: series.days.map((d) => d.new_members), borderColor: PALETTE[1], backgroundColor: PALETTE[1] },
            ],
          },
          options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
        },
      ),
      chart(
        "Points liability per day",
        last ? `${last.points_liability} points on ${last.day}` : "no data",
        {
          type: "line",
          data: {
            labels,
            datasets: [
              { label: "points liability", data: series.days.map((d) => d.points_liability), borderColor: PALETTE[2], backgroundColor: PALETTE[2] },
            ],
          },
          options: { scales: { y: { beginAtZero: true } } },
        },
      ),
    ),
    table(
      "Points and coupons in the range",
      ["earned", "redeemed", "expired", "reversed", "adjusted", "coupons issued", "coupons used", "orders"],
      [[
        num(sum("points_earned")), num(sum("points_redeemed")), num(sum("points_expired")), num(sum("points_reversed")),
        num(sum("points_adjusted")), num(sum("coupons_issued")), num(sum("coupons_used")), num(sum("orders")),
      ]],
    ),
  );
}

async function loadCampaigns(section: HTMLElement, pid: string): Promise<void> {
  try {
    const doc = await call<{ campaigns?: { id: string; name?: string }[] }>("GET", programPath(pid));
    const list = doc.campaigns ?? [];
    const rows = await Promise.all(
      list.map(async (c) => {
        const f = await call<CampaignFigures>("GET", `${programPath(pid)}/campaigns/${enc(c.id)}`);
        const budget = f.budget_left ? Object.entries(f.budget_left).map(([k, v]) => `${k}: ${num(v)}`).join(", ") : "no budget";
        return [c.name ? `${c.name} (${c.id})` : c.id, num(f.applications), num(f.members_reached), num(f.points_given), num(f.coupons_given), num(f.growth_given), budget];
      }),
    );
    section.append(
      table("Campaign figures", ["campaign", "applications", "members reached", "points", "coupons", "growth", "budget left"], rows, "the program has no campaigns"),
    );
  } catch (err) {
    section.append(note(err instanceof ApiError ? err.message : String(err), "error"));
  }
}
