// Grants to an audience (PUT/GET .../grants/{id}, POST .../cancel): start one, watch it page by page, cancel it.
import { ApiError, call, enc, programPath } from "../api";
import { clear, field, figures, h, newId, note, num, setFieldError, when } from "../dom";

interface Grant {
  grant_id: string;
  status: "queued" | "running" | "done" | "cancelled";
  audience: Record<string, string>;
  reason: string;
  members_read: number;
  members_matched: number;
  members_granted: number;
  members_skipped: number;
  skipped: { blocked: number; erased: number };
  points: number;
  coupons: number;
  wallet: Record<string, number>;
  pages: number;
  created_at: string;
  started_at?: string | null;
  finished_at?: string | null;
  cancelled_at?: string | null;
}

const ATTRS = ["tier", "tag", "segment", "stage"] as const;
const LIVE = new Set(["queued", "running"]);
const POLL_MS = 1000;
let watching = 0; // the grant being watched: a newer watch (or another page) stops the older one's polling

/** The request's field a problem names -> the input's id on this form. */
const INPUTS: Record<string, string> = {
  audience: "grant-value",
  "audience.when": "grant-when",
  "audience.segment": "grant-value",
  "audience.tier": "grant-value",
  "audience.tag": "grant-value",
  "audience.stage": "grant-value",
  points: "grant-points",
  body: "grant-points",
  "wallet.id": "grant-wallet",
  "wallet.amount": "grant-wallet-amount",
  reason: "grant-reason",
  grant_id: "grant-id",
};

function report(g: Grant, cancel: HTMLButtonElement): HTMLElement {
  const wallets = Object.entries(g.wallet).map(([w, n]) => `${num(n)} ${w}`).join(", ");
  cancel.hidden = !LIVE.has(g.status);
  return h(
    "div",
    { class: "card", id: "grant-report" },
    h("h2", {}, `Grant ${g.grant_id}: `, h("span", { id: "grant-status" }, g.status)),
    h("p", { class: "hint" }, `Audience ${Object.entries(g.audience).map(([k, v]) => `${k} ${v}`).join(", ")}; reason “${g.reason}”.`),
    figures([
      ["Members read", h("span", { id: "grant-read" }, num(g.members_read))],
      ["Matched", num(g.members_matched)],
      ["Granted", h("span", { id: "grant-granted" }, num(g.members_granted))],
      ["Skipped", h("span", { id: "grant-skipped" }, `${num(g.members_skipped)} (blocked ${num(g.skipped.blocked)}, erased ${num(g.skipped.erased)})`)],
      ["Points given", h("span", { id: "grant-points-given" }, num(g.points))],
      ["Coupons given", num(g.coupons)],
      ...(wallets ? [["Wallets given", wallets] as [string, string]] : []),
      ["Pages done", num(g.pages)],
    ]),
    h("p", { class: "hint" }, `Created ${when(g.created_at)} · started ${when(g.started_at)} · finished ${when(g.finished_at)}${g.cancelled_at ? ` · cancelled ${when(g.cancelled_at)}` : ""}`),
    cancel,
  );
}

function watch(pid: string, gid: string, out: HTMLElement): void {
  const mine = ++watching;
  const path = `${programPath(pid)}/grants/${enc(gid)}`;
  const cancel = h("button", { type: "button", class: "secondary", id: "grant-cancel" }, "Cancel the grant");
  const show = (g: Grant): void => clear(out, report(g, cancel));
  cancel.addEventListener("click", async () => {
    cancel.disabled = true;
    try {
      show(await call<Grant>("POST", `${path}/cancel`, {}));
    } catch (err) {
      out.append(note(err instanceof ApiError ? err.message : String(err), "error"));
    } finally {
      cancel.disabled = false;
    }
  });
  const poll = async (): Promise<void> => {
    if (mine !== watching || !out.isConnected) return;
    try {
      const g = await call<Grant>("GET", path);
      if (mine !== watching) return;
      show(g);
      if (LIVE.has(g.status)) setTimeout(() => void poll(), POLL_MS);
    } catch (err) {
      clear(out, note(err instanceof ApiError ? err.message : String(err), "error"));
    }
  };
  void poll();
}

export function grantsPage(root: HTMLElement, pid: string, params: URLSearchParams): void {
  const attr = h("select", {}, ...ATTRS.map((a) => h("option", { value: a }, a)));
  const value = h("input", { type: "text", required: true, autocomplete: "off", value: "star" });
  const cond = h("input", { type: "text", autocomplete: "off", size: 50, placeholder: "member.orders_total >= 3" });
  const points = h("input", { type: "number", min: 0, step: 1, value: 100, inputmode: "numeric" });
  const coupons = h("input", { type: "text", autocomplete: "off", size: 30 });
  const wallet = h("input", { type: "text", autocomplete: "off" });
  const walletAmount = h("input", { type: "number", min: 1, step: 1, inputmode: "numeric" });
  const reason = h("input", { type: "text", required: true, autocomplete: "off", maxlength: 200 });
  const gid = h("input", { type: "text", required: true, autocomplete: "off", pattern: "[A-Za-z0-9_.:\\-]{1,64}", value: newId("grant").slice(0, 64) });
  const out = h("div", { id: "grant-result", "aria-live": "polite" });
  const form = h(
    "form",
    { class: "card", "aria-labelledby": "grant-h" },
    h("h2", { id: "grant-h" }, "Start a grant"),
    h("p", { class: "hint" }, "Every member of the audience gets it exactly once, a page of 100 members at a time; blocked and erased members are skipped. The same id and body again shows the same grant."),
    h("div", { class: "inline" }, field("grant-attr", "Audience by", attr), field("grant-value", "Value", value)),
    field("grant-when", "Only members for whom (optional CEL over member and at)", cond),
    h("div", { class: "inline" },
      field("grant-points", "Points each", points),
      field("grant-coupons", "Coupon templates (optional)", coupons, "template ids, separated by commas or spaces"),
    ),
    h("div", { class: "inline" }, field("grant-wallet", "Wallet (optional)", wallet), field("grant-wallet-amount", "Wallet amount", walletAmount)),
    field("grant-reason", "Reason (on each ledger entry)", reason),
    field("grant-id", "Grant id", gid),
    h("button", { type: "submit" }, "Start the grant"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    for (const el of form.querySelectorAll("[aria-invalid=true]")) setFieldError(el.id, null);
    if (!form.reportValidity()) return;
    const audience: Record<string, string> = { [attr.value]: value.value.trim() };
    if (cond.value.trim()) audience.when = cond.value.trim();
    const body: Record<string, unknown> = { audience, points: Number(points.value || 0), reason: reason.value };
    const templates = coupons.value.split(/[\s,]+/).filter(Boolean);
    if (templates.length) body.coupons = templates;
    if (wallet.value.trim()) body.wallet = { id: wallet.value.trim(), amount: Number(walletAmount.value || 0) };
    const button = form.querySelector("button[type=submit]") as HTMLButtonElement;
    button.disabled = true;
    try {
      await call("PUT", `${programPath(pid)}/grants/${enc(gid.value)}`, body);
      history.replaceState(null, "", `#/grants?grant=${enc(gid.value)}`);
      watch(pid, gid.value, out);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      clear(out, note(err.message, "error"));
      for (const d of err.details) setFieldError(INPUTS[d.field] ?? (d.field.startsWith("coupons") ? "grant-coupons" : "grant-id"), d.message);
    } finally {
      button.disabled = false;
    }
  });
  const lookup = h("input", { type: "text", required: true, autocomplete: "off", pattern: "[A-Za-z0-9_.:\\-]{1,64}" });
  const find = h(
    "form",
    { class: "inline", "aria-label": "Watch a grant" },
    field("grant-lookup", "Watch a grant by id", lookup),
    h("button", { type: "submit", class: "secondary" }, "Watch"),
  );
  find.addEventListener("submit", (event) => {
    event.preventDefault();
    if (find.reportValidity()) watch(pid, lookup.value, out);
  });
  root.append(form, find, out);
  const shown = params.get("grant");
  if (shown) {
    lookup.value = shown;
    watch(pid, shown, out);
  }
}
