import { ApiError, call, enc, memberPath, mode } from "../api";
import { clear, field, figures, h, newId, note, num, setFieldError, table, when } from "../dom";
import { facts, type ProgramFacts } from "../programs";
import { setParams } from "../state";

interface MemberView {
  member_id: string;
  enrolled_at: string;
  last_purchase_at: string | null;
  lifecycle_stage: string;
  tier: { id: string; name: string; since: string | null; progress: { metric: string; value: number; next_tier: string | null; needed: number } } | null;
  points: {
    balance: number;
    lifetime_earned: number;
    held?: number;
    owed?: number;
    pending?: { points: number; available_on: string; ref: string }[];
    expiring: { points: number; expires_on: string }[];
  };
  paid_cards: { plan_id: string; active_until: string; kind?: string | null }[];
  rfm?: { segment: string } | null;
  growth?: number | null;
  tags: string[];
  checkouts?: { checkout_id: string; expires_at: string; points: number; coupon_ids: string[] }[];
  // Present only when the program has wallets (stamps...) or counters.
  wallets?: Record<string, { balance: number; owed: number; expiring: { amount: number; expires_on: string }[] }>;
  counters?: Record<string, number>;
  // A blocked member earns and spends nothing; flags: the abuse limits it went past (API.md "Audiences, and abuse").
  blocked?: { at: string; reason: string } | null;
  flags?: { kind: string; at: string; day: string }[];
}
interface Coupon {
  coupon_id: string;
  name: string;
  status: string;
  kind: string;
  value_minor: number;
  min_spend_minor: number;
  valid_from: string;
  valid_until: string;
  source: string;
}
interface LedgerEntry {
  type: string;
  points: number;
  balance_after: number;
  at: string;
  ref: string | null;
  reason?: string | null;
  actor?: string | null;
}
interface AuditEntry {
  at: string;
  what: string;
  client_id: string | null;
  actor: string;
}
interface Notice {
  kind: string;
  at: string;
  text: string;
  ref: string | null;
}
// A page of a list: `entries` (ledger, audit) or `notices`.
type Page<T> = { next_cursor: string | null } & Partial<Record<"entries" | "notices", T[]>>;

// Rows per page of the ledger and the audit trail; `#/member?limit=` overrides it (the API takes 1-100).
let pageSize = 10;

export function member(root: HTMLElement, pid: string, params: URLSearchParams): void {
  pageSize = Math.min(100, Math.max(1, Math.trunc(Number(params.get("limit"))) || 10));
  const input = h("input", { type: "text", required: true, autocomplete: "off", pattern: "[A-Za-z0-9_.:\\-]{1,64}", value: params.get("member") ?? "" });
  const out = h("div", { class: "results" });
  const form = h("form", { class: "inline", role: "search" }, field("member-id", "Member id", input), h("button", { type: "submit" }, "Look up"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!input.reportValidity()) return;
    setParams({ member: input.value });
    void show(out, pid, input.value);
  });
  root.append(form, out);
  if (input.value) void show(out, pid, input.value);
}

async function show(out: HTMLElement, pid: string, mid: string): Promise<void> {
  clear(out, note("Loading…"));
  const summary = h("section", { "aria-labelledby": "summary-h" });
  const program = await facts(pid);
  // A cancelled checkout changes the summary and writes an audit entry: everything is read again.
  const again = (): void => refresh();
  try {
    await renderSummary(summary, pid, mid, program, again);
  } catch (err) {
    clear(out, note(err instanceof ApiError ? err.message : String(err), "error"));
    return;
  }
  const coupons = h("section", { "aria-labelledby": "coupons-h" }, h("h2", { id: "coupons-h" }, "Coupons"));
  const ledger = h("section", { "aria-labelledby": "ledger-h" }, h("h2", { id: "ledger-h" }, "Points ledger"));
  const audit = h("section", { "aria-labelledby": "audit-h" }, h("h2", { id: "audit-h" }, "Audit trail"));
  const notices = h("section", { "aria-labelledby": "notices-h" }, h("h2", { id: "notices-h" }, "Notices"));
  const refresh = (): void => {
    renderSummary(summary, pid, mid, program, again).catch((err) => summary.append(note(err instanceof ApiError ? err.message : String(err), "error")));
    void paged<LedgerEntry>(ledger, `${memberPath(pid, mid)}/ledger`, "Ledger entries, newest first", ["at", "type", "points", "balance after", "ref", "reason", "actor"], (e) => [
      when(e.at), e.type, signed(e.points), num(e.balance_after), e.ref ?? "—", e.reason ?? "—", e.actor ?? "—",
    ]);
    void paged<AuditEntry>(audit, `${memberPath(pid, mid)}/audit`, "Audit entries, newest first", ["at", "what", "client id", "actor"], (e) => [
      when(e.at), e.what, e.client_id ?? "—", e.actor,
    ]);
    // What the member's app tells the member, in the API's words (`text`).
    void paged<Notice>(notices, `${memberPath(pid, mid)}/notices`, "Notices, newest first", ["at", "notice", "kind", "ref"], (n) => [
      when(n.at), n.text, n.kind, n.ref ?? "—",
    ], "notices");
  };
  clear(out, summary, adjustment(pid, mid, refresh), coupons, notices, ledger, audit);
  refresh();
  void renderCoupons(coupons, pid, mid, program);
}

const signed = (n: number): string => (n > 0 ? `+${num(n)}` : num(n));

async function renderSummary(section: HTMLElement, pid: string, mid: string, program: ProgramFacts, again: () => void): Promise<void> {
  const m = await call<MemberView>("GET", memberPath(pid, mid));
  const tier = m.tier;
  const pending = m.points.pending ?? [];
  const progress = tier
    ? tier.progress.next_tier
      ? h(
          "span",
          {},
          h("progress", { id: "tier-progress", max: tier.progress.value + tier.progress.needed, value: tier.progress.value, "aria-label": `progress to ${program.tier(tier.progress.next_tier)}` }),
          ` ${num(tier.progress.value)} ${tier.progress.metric}; ${num(tier.progress.needed)} more to ${program.tier(tier.progress.next_tier)}`,
        )
      : `${num(tier.progress.value)} ${tier.progress.metric}; top tier`
    : "—";
  clear(
    section,
    h("h2", { id: "summary-h" }, `Member ${m.member_id}`),
    figures([
      ["Points balance", h("span", { id: "member-balance" }, num(m.points.balance))],
      ["Points held", h("span", { id: "member-held" }, num(m.points.held ?? 0))],
      // Not in the balance: inside the return window (listed below with their day), and what refunds could not take back.
      ["Points pending", h("span", { id: "member-pending-total" }, num(pending.reduce((n, p) => n + p.points, 0)))],
      ["Points owed", h("span", { id: "member-owed" }, num(m.points.owed ?? 0))],
      ["Lifetime earned", num(m.points.lifetime_earned)],
      ["Tier", tier ? tier.name : "—"],
      ["Tier progress", progress],
      ["Lifecycle", m.lifecycle_stage],
      ["RFM segment", m.rfm?.segment ?? "—"],
      ["Enrolled", when(m.enrolled_at)],
      ["Last purchase", when(m.last_purchase_at)],
      ["Tags", m.tags.length ? m.tags.join(", ") : "none"],
      ["Blocked", h("span", { id: "member-blocked" }, m.blocked ? `since ${when(m.blocked.at)}: ${m.blocked.reason}` : "no")],
    ]),
    blocking(pid, mid, m.blocked ?? null, again),
    h("div", { id: "member-flags" }, table("Abuse flags", ["limit", "day", "at"], (m.flags ?? []).map((f) => [f.kind, f.day, when(f.at)]), "none")),
    h(
      "div",
      { id: "member-pending" },
      table("Pending points (the return window)", ["points", "available on", "from"], pending.map((p) => [num(p.points), p.available_on, p.ref]), "none pending"),
    ),
    table("Expiring points", ["points", "expires on"], m.points.expiring.map((e) => [num(e.points), e.expires_on]), "nothing expiring"),
    table("Paid cards", ["plan", "kind", "active until"], m.paid_cards.map((c) => [c.plan_id, c.kind ?? "—", when(c.active_until)]), "no paid cards"),
    walletsAndCounters(m, program),
    openCheckouts(pid, mid, m.checkouts ?? [], again),
  );
}

/** Block (with a reason) or unblock the member: PUT / DELETE .../block, then everything is read again. */
function blocking(pid: string, mid: string, blocked: MemberView["blocked"], again: () => void): HTMLElement {
  const status = h("div", { id: "block-status", "aria-live": "polite" });
  const reason = h("input", { type: "text", required: true, maxlength: 200, autocomplete: "off" });
  const button = h("button", { type: "submit", class: blocked ? "secondary" : null }, blocked ? "Unblock member" : "Block member");
  const form = h(
    "form",
    { id: "member-block", class: "inline", "aria-label": blocked ? "Unblock the member" : "Block the member", novalidate: true },
    blocked ? null : field("block-reason", "Reason to block", reason, "a blocked member earns and spends nothing; it keeps what it has"),
    button,
    status,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    setFieldError("block-reason", null);
    if (!blocked && !reason.value.trim()) {
      setFieldError("block-reason", "a reason is required");
      reason.focus();
      return;
    }
    button.disabled = true;
    try {
      if (blocked) await call("DELETE", `${memberPath(pid, mid)}/block`);
      else await call("PUT", `${memberPath(pid, mid)}/block`, { reason: reason.value.trim() });
      again();
    } catch (err) {
      button.disabled = false;
      if (!(err instanceof ApiError)) throw err;
      err.details.filter((d) => d.field === "reason").forEach((d) => setFieldError("block-reason", d.message));
      clear(status, note(err.message, "error"));
    }
  });
  return form;
}

/** The member's wallets and counters, each where the program has them (the view has every one it has). */
function walletsAndCounters(m: MemberView, program: ProgramFacts): (HTMLElement | null)[] {
  const expiring = (e: { amount: number; expires_on: string }[]): string => e.map((x) => `${num(x.amount)} on ${x.expires_on}`).join(", ") || "nothing";
  const wallets = Object.entries(m.wallets ?? {}).map(([id, w]) => [`${program.wallet(id)} (${id})`, num(w.balance), num(w.owed), expiring(w.expiring)]);
  const counters = Object.entries(m.counters ?? {}).map(([id, n]) => [id, program.counter(id) || "—", num(n)]);
  // `counters` is {} for a program without any: an empty map is shown as nothing, like a missing one.
  return [
    wallets.length ? h("div", { id: "member-wallets" }, table("Wallets", ["wallet", "balance", "owed", "expiring"], wallets, "none")) : null,
    counters.length ? h("div", { id: "member-counters" }, table("Counters (current periods)", ["counter", "counts", "count"], counters, "none")) : null,
  ];
}

/** The open checkouts and what each holds until it ends; Cancel releases its holds (POST .../cancel). */
function openCheckouts(pid: string, mid: string, checkouts: NonNullable<MemberView["checkouts"]>, again: () => void): HTMLElement {
  const status = h("div", { id: "checkouts-status", "aria-live": "polite" });
  const cancel = async (button: HTMLButtonElement, cid: string): Promise<void> => {
    button.disabled = true;
    try {
      await call("POST", `${memberPath(pid, mid)}/checkouts/${enc(cid)}/cancel`);
      again(); // the holds are released: the balance's held figure and this list change
    } catch (err) {
      button.disabled = false;
      clear(status, note(`Checkout ${cid} not cancelled: ${err instanceof ApiError ? err.message : String(err)}`, "error"));
    }
  };
  const rows = checkouts.map((c) => {
    const button = h("button", { type: "button", class: "secondary" }, `Cancel checkout ${c.checkout_id}`);
    button.addEventListener("click", () => void cancel(button, c.checkout_id));
    return [c.checkout_id, when(c.expires_at), num(c.points), c.coupon_ids.join(", ") || "—", button];
  });
  return h("div", { id: "member-checkouts" }, table("Open checkouts and their holds", ["checkout", "held until", "points held", "coupons held", ""], rows, "none"), status);
}

async function renderCoupons(section: HTMLElement, pid: string, mid: string, { money }: ProgramFacts): Promise<void> {
  try {
    const { coupons } = await call<{ coupons: Coupon[] }>("GET", `${memberPath(pid, mid)}/coupons`);
    // The API's status is one of three: a coupon not valid yet is `available`, and its valid_from says
    // the till refuses it until then, so the console says so beside the status.
    const now = Date.now();
    const status = (c: Coupon): string => (c.status === "available" && Date.parse(c.valid_from) > now ? "available, not yet valid" : c.status);
    section.append(
      table("Coupon wallet", ["coupon", "name", "status", "value", "min spend", "valid from", "valid until", "source"], coupons.map((c) => [
        c.coupon_id, c.name, status(c), c.kind === "amount_off" ? money(c.value_minor) : `${c.kind} ${c.value_minor}`, money(c.min_spend_minor), when(c.valid_from), when(c.valid_until), c.source,
      ]), "no coupons"),
    );
  } catch (err) {
    section.append(note(err instanceof ApiError ? err.message : String(err), "error"));
  }
}

/** A table that follows next_cursor on "More"; the section keeps its heading. */
async function paged<T>(
  section: HTMLElement,
  path: string,
  caption: string,
  headers: string[],
  row: (e: T) => (string | Node)[],
  key: "entries" | "notices" = "entries",
): Promise<void> {
  const heading = section.firstElementChild as HTMLElement;
  const rows: (string | Node)[][] = [];
  const body = h("div", {});
  clear(section, heading, body);
  const more = async (cursor: string | null): Promise<void> => {
    try {
      const page = await call<Page<T>>("GET", `${path}?limit=${pageSize}${cursor ? `&cursor=${enc(cursor)}` : ""}`);
      rows.push(...(page[key] ?? []).map(row));
      const button = page.next_cursor
        ? h("button", { type: "button", class: "secondary", onclick: () => void more(page.next_cursor) }, `More (${caption.split(",")[0].toLowerCase()})`)
        : null;
      clear(body, table(caption, headers, rows), button);
      if (cursor) (body.querySelector("button") ?? body.querySelector("table"))?.focus?.();
    } catch (err) {
      body.append(note(err instanceof ApiError ? err.message : String(err), "error"));
    }
  };
  await more(null);
}

function adjustment(pid: string, mid: string, refresh: () => void): HTMLElement {
  const points = h("input", { type: "number", step: 1, required: true, inputmode: "numeric" });
  const reason = h("input", { type: "text", required: true, maxlength: 200 });
  const actor = h("input", { type: "text", maxlength: 128, autocomplete: "name" });
  const status = h("div", { "aria-live": "polite" });
  const ids: Record<string, string> = { points: "adj-points", reason: "adj-reason" };
  const form = h(
    "form",
    { class: "card", "aria-labelledby": "adj-h", novalidate: true },
    h("h2", { id: "adj-h" }, "Adjust points"),
    field("adj-points", "Points (signed: +credit, −debit)", points),
    field("adj-reason", "Reason", reason, "kept on the ledger entry"),
    // Who made it is the request's principal, on the ledger and in the audit alike: in AWS the signed-in
    // role; locally the runtime's x-loyalty-actor header, which this field sets.
    mode === "local" ? field("adj-actor", "Actor (optional)", actor, "who made it, on the ledger and in the audit; default: local") : null,
    h("button", { type: "submit" }, "Apply adjustment"),
    status,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    Object.values(ids).forEach((id) => setFieldError(id, null));
    clear(status);
    // The same checks as the API's, before a round trip; the API's answer is still shown if it differs.
    const value = Number(points.value);
    let bad = false;
    if (!points.value || !Number.isInteger(value) || value === 0) {
      setFieldError("adj-points", "a whole number, not 0");
      bad = true;
    }
    if (!reason.value.trim()) {
      setFieldError("adj-reason", "a reason is required");
      bad = true;
    }
    if (bad) {
      (form.querySelector("[aria-invalid=true]") as HTMLElement | null)?.focus();
      return;
    }
    const body = { adjustment_id: newId("adj"), points: value, reason: reason.value.trim() };
    const who: Record<string, string> = mode === "local" && actor.value.trim() ? { "x-loyalty-actor": actor.value.trim() } : {};
    const button = form.querySelector("button") as HTMLButtonElement;
    button.disabled = true;
    try {
      const res = await call<{ points: number; balance: number }>("POST", `${memberPath(pid, mid)}/adjustments`, body, who);
      clear(status, note(`Adjusted ${signed(res.points)}: balance now ${num(res.balance)}`, "ok"));
      form.reset();
      refresh();
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      const placed = err.details.filter((d) => ids[d.field]);
      placed.forEach((d) => setFieldError(ids[d.field], d.message));
      const rest = err.details.filter((d) => !ids[d.field]).map((d) => `${d.field}: ${d.message}`);
      clear(status, note([err.message, ...rest].join("; "), "error"));
    } finally {
      button.disabled = false;
    }
  });
  return form;
}
