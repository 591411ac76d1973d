// The Program page's "What a member sees": the program as one chosen member's app shows it, read from the
// server twin of GET .../me/program (GET .../members/{id}/program): each reward with whether that member
// can redeem it now, and why not, in the redemption's own words.
import { ApiError, call, memberPath } from "../api";
import { clear, field, h, note, num, table } from "../dom";

interface MemberProgram {
  name: string;
  currency: string;
  tiers: { id: string; name: string; threshold: number; earn_multiplier: number; benefits: { kind: string; name: string }[] }[];
  rewards: { id: string; name: string; cost_points?: number; cost?: { wallet: string; amount: number }; available: boolean; reason?: string; stock_left?: number }[];
  activities: { type: string; points: number; daily_cap: number | null; self_report: boolean }[];
  campaigns: { id: string; title: string; description: string; active: boolean }[];
}

export function memberProgramPanel(pid: string): HTMLElement {
  const mid = h("input", { type: "text", required: true, autocomplete: "off", pattern: "[A-Za-z0-9_.:\\-]{1,64}" });
  const out = h("div", { id: "member-program", "aria-live": "polite" });
  const form = h(
    "form",
    { class: "card", "aria-labelledby": "member-program-h" },
    h("h2", { id: "member-program-h" }, "What a member sees"),
    h("p", { class: "hint" }, "The program as this member's app shows it (GET .../me/program); nothing is written."),
    h("div", { class: "inline" }, field("member-program-id", "Member id", mid), h("button", { type: "submit" }, "Show")),
    out,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    clear(out, note("Loading…"));
    try {
      clear(out, ...render(await call<MemberProgram>("GET", `${memberPath(pid, mid.value)}/program`)));
    } catch (err) {
      clear(out, note(err instanceof ApiError ? err.message : String(err), "error"));
    }
  });
  return form;
}

function render(p: MemberProgram): HTMLElement[] {
  const cost = (r: MemberProgram["rewards"][number]): string => (r.cost ? `${num(r.cost.amount)} ${r.cost.wallet}` : `${num(r.cost_points)} points`);
  return [
    table("Rewards for this member", ["reward", "cost", "can redeem now", "why not", "stock left"], p.rewards.map((r) => [
      `${r.name} (${r.id})`, cost(r), r.available ? "yes" : "no", r.reason ?? "—", r.stock_left === undefined ? "—" : num(r.stock_left),
    ]), "no rewards"),
    table("Tiers and benefits", ["tier", "threshold", "multiplier", "benefits"], p.tiers.map((t) => [
      t.name, num(t.threshold), `${t.earn_multiplier}x`, t.benefits.map((b) => b.name).join("; ") || "—",
    ]), "no tiers"),
    table("Activities", ["type", "points", "daily cap", "member may report"], p.activities.map((a) => [
      a.type, num(a.points), a.daily_cap === null ? "—" : num(a.daily_cap), a.self_report ? "yes" : "no",
    ]), "none"),
    table("Public campaigns", ["campaign", "title", "description", "active now"], p.campaigns.map((c) => [
      c.id, c.title, c.description || "—", c.active ? "yes" : "no",
    ]), "none public"),
  ];
}
