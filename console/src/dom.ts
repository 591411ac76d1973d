// A tiny element builder: enough for a handful of forms and tables, no framework to ship.
type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | EventListener | null | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === "function") el.addEventListener(key.replace(/^on/, ""), value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

export function append(el: Element, children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

export function clear(el: Element, ...children: (Child | Child[])[]): void {
  el.replaceChildren();
  append(el, children);
}

/** A labelled control in one block; the id ties label and input for screen readers and axe. */
export function field(id: string, label: string, control: HTMLElement, hint?: string): HTMLElement {
  control.id = id;
  const error = h("p", { class: "field-error", id: `${id}-error`, "aria-live": "polite" });
  const parts: Child[] = [h("label", { for: id }, label), control];
  if (hint) {
    parts.push(h("p", { class: "hint", id: `${id}-hint` }, hint));
    control.setAttribute("aria-describedby", `${id}-hint ${id}-error`);
  } else {
    control.setAttribute("aria-describedby", `${id}-error`);
  }
  parts.push(error);
  return h("div", { class: "field" }, ...parts);
}

export function setFieldError(id: string, message: string | null): void {
  const error = document.getElementById(`${id}-error`);
  const control = document.getElementById(id);
  if (error) error.textContent = message ?? "";
  if (control) {
    if (message) control.setAttribute("aria-invalid", "true");
    else control.removeAttribute("aria-invalid");
  }
}

export function table(caption: string, headers: string[], rows: Child[][], empty = "none"): HTMLElement {
  if (rows.length === 0) return h("p", { class: "empty" }, `${caption}: ${empty}`);
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      {},
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, headers.map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c))))),
    ),
  );
}

export function figures(items: [string, Child][]): HTMLElement {
  return h(
    "dl",
    { class: "figures" },
    items.map(([k, v]) => h("div", { class: "figure" }, h("dt", {}, k), h("dd", {}, v))),
  );
}

export function note(text: string, kind: "note" | "error" | "ok" = "note"): HTMLElement {
  return h("p", { class: `msg ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
}

export const pct = (x: number | null | undefined): string =>
  x === null || x === undefined ? "—" : `${(x * 100).toFixed(1)}%`;
export const num = (x: number | null | undefined): string =>
  x === null || x === undefined ? "—" : x.toLocaleString("en-US");
export const when = (iso: string | null | undefined): string =>
  iso ? iso.replace("T", " ").replace(/(\.\d+)?(\+00:00|Z)$/, " UTC") : "—";

export function newId(prefix: string): string {
  // crypto.randomUUID needs a secure context; 127.0.0.1 is one, a LAN address is not.
  const random = globalThis.crypto?.randomUUID?.() ?? `${Date.now()}-${Math.random().toString(36).slice(2)}`;
  return `${prefix}-${random}`;
}
