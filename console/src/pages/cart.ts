// The program page's "try it" for a cart: the server's checkout preview (PUT .../checkouts/{id}/preview),
// which prices lines, coupons and points as a till's checkout would and holds nothing.
import { ApiError, type Problem, call, enc, memberPath } from "../api";
import { clear, field, figures, h, newId, note, num, setFieldError, table } from "../dom";
import { facts, type ProgramFacts } from "../programs";

interface Priced {
  lines: { line_id: string; sku: string; quantity: number; unit_price_minor: number; amount_minor: number; discounts: { source: string; amount_minor: number }[]; payable_minor: number }[];
  subtotal_minor: number;
  discount_minor: number;
  points_used: number;
  points_value_minor: number;
  total_minor: number;
  points_usable_max: number;
  points_to_earn: number;
  coupons: { coupon_id: string; applied: boolean; discount_minor?: number | null; reason?: string | null }[];
  campaigns: { campaign_id: string; discount_minor: number }[];
  campaigns_skipped: { campaign_id: string; reason: string }[];
  gifts: { sku: string; quantity: number; campaign_id: string }[];
}

// A line's inputs, by the request's field names (the API's problems name them: `items[i].<name>`).
const COLUMNS = [
  ["sku", "SKU", "text"],
  ["category", "Category (optional)", "text"],
  ["quantity", "Quantity", "number"],
  ["unit_price_minor", "Unit price (minor units)", "number"],
  ["member_price_minor", "Member price (optional)", "number"],
] as const;
type Column = (typeof COLUMNS)[number][0];
type Row = { key: number; inputs: Record<Column, HTMLInputElement>; el: HTMLElement; remove: HTMLButtonElement };

let rowKeys = 0; // ids stay unique as lines are added and removed

export function cartPanel(pid: string): HTMLElement {
  const mid = h("input", { type: "text", required: true, autocomplete: "off", pattern: "[A-Za-z0-9_.:\\-]{1,64}" });
  const coupons = h("input", { type: "text", autocomplete: "off", size: 40 });
  const points = h("input", { type: "number", min: 0, step: 1, value: 0, inputmode: "numeric" });
  const lines = h("div", { id: "cart-lines" });
  const out = h("div", { id: "cart-result", "aria-live": "polite" });
  const rows: Row[] = [];
  let unitLabel = "Unit price (minor units)"; // in the program's currency once its facts are read

  const addRow = (values: Partial<Record<Column, string>> = {}): Row => {
    const key = ++rowKeys;
    const inputs = Object.fromEntries(
      COLUMNS.map(([name, , type]) => {
        const input = h("input", type === "number"
          ? { type, min: name === "quantity" ? 1 : 0, step: 1, inputmode: "numeric", required: !name.startsWith("member"), value: values[name] ?? "" }
          : { type, autocomplete: "off", required: name === "sku", value: values[name] ?? "" });
        return [name, input];
      }),
    ) as Record<Column, HTMLInputElement>;
    const remove = h("button", { type: "button", class: "secondary" });
    const el = h("fieldset", { class: "inline cart-line" }, h("legend", {}, ""), ...COLUMNS.map(([name, label]) => field(`cart-${key}-${name}`, name === "unit_price_minor" ? unitLabel : label, inputs[name])), remove);
    const row = { key, inputs, el, remove };
    remove.addEventListener("click", () => {
      rows.splice(rows.indexOf(row), 1);
      el.remove();
      renumber();
    });
    rows.push(row);
    lines.append(el);
    renumber();
    return row;
  };
  // Lines are numbered by their place: the line_id sent and the `items[i]` the API names.
  const renumber = (): void =>
    rows.forEach((r, i) => {
      (r.el.querySelector("legend") as HTMLElement).textContent = `Line ${i + 1}`;
      r.remove.textContent = `Remove line ${i + 1}`;
      r.remove.disabled = rows.length === 1; // a cart has at least one line
    });
  addRow({ sku: "latte", category: "coffee", quantity: "2", unit_price_minor: "3200" });

  const form = h(
    "form",
    { class: "card", "aria-labelledby": "cart-h" },
    h("h2", { id: "cart-h" }, "Try it: price a cart"),
    h("p", { class: "hint" }, "Prices a cart as the member's checkout would (member prices, checkout campaigns, coupons in the order given, then points); nothing is held or written."),
    field("cart-member", "Member id", mid),
    lines,
    h("div", { class: "buttons" }, h("button", { type: "button", class: "secondary", onclick: () => addRow().inputs.sku.focus() }, "Add line")),
    h("div", { class: "inline" },
      field("cart-coupons", "Coupon ids (optional)", coupons, "the member's coupons, in the order to apply, separated by commas or spaces"),
      field("cart-points", "Points to use", points),
      h("button", { type: "submit" }, "Price the cart"),
    ),
    out,
  );
  void facts(pid).then(({ currency }) => {
    if (!currency) return;
    unitLabel = `Unit price (${currency}, minor units)`;
    for (const label of form.querySelectorAll("label[for$='-unit_price_minor']")) label.textContent = unitLabel;
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    for (const el of form.querySelectorAll("[aria-invalid=true]")) setFieldError(el.id, null);
    if (!form.reportValidity()) return;
    const items = rows.map((r, i) => {
      const item: Record<string, unknown> = { line_id: String(i + 1), sku: r.inputs.sku.value.trim(), quantity: Number(r.inputs.quantity.value), unit_price_minor: Number(r.inputs.unit_price_minor.value) };
      if (r.inputs.category.value.trim()) item.category = r.inputs.category.value.trim();
      if (r.inputs.member_price_minor.value !== "") item.member_price_minor = Number(r.inputs.member_price_minor.value);
      return item;
    });
    const body = { items, coupon_ids: coupons.value.split(/[\s,]+/).filter(Boolean), points_to_use: Number(points.value || 0) };
    const button = form.querySelector("button[type=submit]") as HTMLButtonElement;
    button.disabled = true;
    clear(out, note("Pricing…"));
    try {
      const path = `${memberPath(pid, mid.value)}/checkouts/${enc(newId("try"))}/preview`;
      const [priced, program] = await Promise.all([call<Priced>("PUT", path, body), facts(pid)]);
      clear(out, ...result(priced, program));
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      clear(out, note(refusal(err, rows), "error"));
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

/** The message, each problem by its field; a problem on a field of this form is also shown beside it. */
function refusal(err: ApiError, rows: Row[]): string {
  const place = (d: Problem): void => {
    const item = /^items\[(\d+)\](?:\.(\w+))?/.exec(d.field);
    const row = item ? rows[Number(item[1])] : undefined;
    const column = (item?.[2] ?? "sku") as Column; // a whole line (not_eligible) shows at its SKU
    const id = row && row.inputs[column] ? `cart-${row.key}-${column}`
      : d.field === "points_to_use" ? "cart-points"
      : d.field.startsWith("coupon_ids") ? "cart-coupons"
      : null;
    if (id) setFieldError(id, d.message);
  };
  err.details.forEach(place);
  return [err.message, ...err.details.map((d) => `${d.field}: ${d.message}`)].join("; ");
}

function result(p: Priced, { money }: ProgramFacts): (HTMLElement | null)[] {
  const off = (minor: number): string => `−${money(minor)}`;
  return [
    figures([
      ["Subtotal", money(p.subtotal_minor)],
      ["Discounts", off(p.discount_minor)],
      ["Points used", `${num(p.points_used)} (${money(p.points_value_minor)})`],
      ["Total to pay", h("span", { id: "cart-total" }, money(p.total_minor))],
      ["Points usable at most", num(p.points_usable_max)],
      ["Points to earn", h("span", { id: "cart-earn" }, num(p.points_to_earn))],
    ]),
    table("Lines", ["line", "SKU", "quantity", "unit price", "amount", "discounts", "payable"], p.lines.map((l) => [
      l.line_id, l.sku, num(l.quantity), money(l.unit_price_minor), money(l.amount_minor),
      l.discounts.length ? h("ul", { class: "discounts" }, l.discounts.map((d) => h("li", {}, `${d.source} ${off(d.amount_minor)}`))) : "—",
      money(l.payable_minor),
    ])),
    table("Coupons", ["coupon", "applied", "discount", "why not"], p.coupons.map((c) => [
      c.coupon_id, c.applied ? "yes" : "no", c.applied ? off(c.discount_minor ?? 0) : "—", c.reason ?? "—",
    ]), "none sent"),
    table("Campaigns applied", ["campaign", "discount"], p.campaigns.map((c) => [c.campaign_id, off(c.discount_minor)]), "none"),
    table("Campaigns skipped", ["campaign", "reason"], p.campaigns_skipped.map((c) => [c.campaign_id, c.reason]), "none"),
    table("Gifts", ["SKU", "quantity", "campaign"], p.gifts.map((g) => [g.sku, num(g.quantity), g.campaign_id]), "none"),
  ];
}
