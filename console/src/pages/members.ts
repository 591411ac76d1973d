import { ApiError, call, enc, programPath } from "../api";
import { clear, field, h, note, num, setFieldError, table } from "../dom";
import { facts } from "../programs";
import { setParams } from "../state";

// GET /programs/{id}/members?<attr>=<value>: one audience, a page at a time (the server's cursor).
const ATTRS = ["tier", "tag", "segment", "stage"] as const;
type Attr = (typeof ATTRS)[number];
// The values the API takes for these two (rules/rfm.py, member.Stage); tier and tag are any id.
const CHOICES: Partial<Record<Attr, string[]>> = {
  segment: ["champions", "loyal", "promising", "needs_attention", "at_risk", "hibernating", "prospect"],
  stage: ["new", "active", "at_risk", "dormant", "recalled"],
};

interface Listed {
  member_id: string;
  lifecycle_stage: string;
  tier: { id: string; name: string } | null;
  points: { balance: number };
  rfm?: { segment: string } | null;
  tags: string[];
}
interface MemberList {
  members: Listed[];
  next_cursor: string | null;
}

export function membersPage(root: HTMLElement, pid: string, params: URLSearchParams): void {
  const given = ATTRS.find((a) => params.get(a) !== null);
  const attr = h("select", {}, ATTRS.map((a) => h("option", { value: a, selected: a === given }, a)));
  const value = h("input", { type: "text", required: true, autocomplete: "off", pattern: "[A-Za-z0-9_.:\\-]{1,64}", list: "members-values", value: given ? (params.get(given) ?? "") : "" });
  const values = h("datalist", { id: "members-values" });
  const suggest = (): void => clear(values, (CHOICES[attr.value as Attr] ?? []).map((v) => h("option", { value: v })));
  attr.addEventListener("change", suggest);
  suggest();
  const limit = Math.min(100, Math.max(1, Math.trunc(Number(params.get("limit"))) || 20));
  const out = h("div", { class: "results", id: "members-results" });
  const form = h(
    "form",
    { class: "inline", role: "search", "aria-label": "Members by attribute" },
    field("members-attr", "Attribute", attr),
    field("members-value", "Value", value),
    values,
    h("button", { type: "submit" }, "List"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    setFieldError("members-value", null);
    if (!value.reportValidity()) return;
    setParams(Object.fromEntries(ATTRS.map((a) => [a, a === attr.value ? value.value : null])));
    void list(out, pid, attr.value as Attr, value.value, limit);
  });
  root.append(form, out);
  if (given && value.value) void list(out, pid, given, value.value, limit);
}

/** The audience a page at a time: "Next page" follows next_cursor, "First page" starts again. */
async function list(out: HTMLElement, pid: string, attr: Attr, value: string, limit: number): Promise<void> {
  const program = await facts(pid);
  let page = 1;
  const show = async (cursor: string | null): Promise<void> => {
    clear(out, note("Loading…"));
    let got: MemberList;
    try {
      got = await call<MemberList>("GET", `${programPath(pid)}/members?${attr}=${enc(value)}&limit=${limit}${cursor ? `&cursor=${enc(cursor)}` : ""}`);
    } catch (err) {
      if (err instanceof ApiError && err.details.some((d) => d.field === attr)) setFieldError("members-value", err.details.find((d) => d.field === attr)?.message ?? err.message);
      clear(out, note(err instanceof ApiError ? err.message : String(err), "error"));
      return;
    }
    const rows = got.members.map((m) => [
      h("a", { href: `#/member?program=${enc(pid)}&member=${enc(m.member_id)}` }, m.member_id),
      m.tier ? program.tier(m.tier.id) : "—",
      m.lifecycle_stage,
      m.rfm?.segment ?? "—",
      num(m.points.balance),
      m.tags.join(", ") || "—",
    ]);
    const caption = `Members with ${attr} ${value}, page ${page}`;
    const next = got.next_cursor
      ? h("button", { type: "button", id: "members-next", onclick: () => { page += 1; void show(got.next_cursor); } }, "Next page")
      : null;
    const first = page > 1 ? h("button", { type: "button", class: "secondary", id: "members-first", onclick: () => { page = 1; void show(null); } }, "First page") : null;
    clear(out, table(caption, ["member", "tier", "stage", "segment", "points", "tags"], rows, "no members"), h("div", { class: "pager" }, first, next));
    if (cursor) (out.querySelector("table") as HTMLElement | null)?.focus?.();
  };
  await show(null);
}
