import { ApiError, type Problem, call, enc, memberPath, programPath } from "../api";
import { clear, field, h, newId, note, num, table } from "../dom";
import { locate } from "../jsonpath";
import { facts, forget } from "../programs";
import { cartPanel } from "./cart";
import { memberProgramPanel } from "./memberprogram";

interface Saved {
  version: number;
  warnings: Record<string, string>[];
}
interface Quote {
  points_earned: number;
  breakdown: { calculation?: string | null; multiplier: string; campaigns: { campaign_id: string; points: number; coupons: string[]; growth: number; tags: string[]; multiplier?: string | null }[] };
  balance: number;
  tier: string | null;
  tier_changed: boolean;
  growth: number;
  usable_coupons: { coupon_id: string; name: string; discount_minor: number }[];
}

export function programPage(root: HTMLElement, pid: string): void {
  const editor = h("textarea", { rows: 28, spellcheck: "false", autocomplete: "off", class: "code" });
  const version = h("p", { id: "program-version", class: "hint" });
  const status = h("div", { id: "program-status", "aria-live": "polite" });
  const problems = h("div", { id: "program-problems" });
  const save = h("button", { type: "submit" }, "Save program");
  const reload = h("button", { type: "button", class: "secondary" }, "Reload");
  const format = h("button", { type: "button", class: "secondary" }, "Format JSON");
  const form = h(
    "form",
    { class: "editor", "aria-labelledby": "doc-h" },
    h("h2", { id: "doc-h" }, "Document"),
    version,
    h("div", { class: "editor-grid" }, h("div", {}, field("program-doc", "Program document (JSON)", editor)), h("div", {}, status, problems)),
    h("div", { class: "buttons" }, save, format, reload),
  );
  const versions = h("section", { "aria-labelledby": "versions-h" }, h("h2", { id: "versions-h" }, "Version history"));
  root.append(form, quotePanel(pid), cartPanel(pid), memberProgramPanel(pid), versions);

  const load = async (): Promise<void> => {
    clear(status, note("Loading…"));
    clear(problems);
    try {
      const { program_id: _id, version: v, ...doc } = await call<Record<string, unknown>>("GET", programPath(pid));
      editor.value = JSON.stringify(doc, null, 2);
      version.textContent = `Current version: ${String(v)}`;
      clear(status);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        editor.value = "{\n}";
        version.textContent = "No such program yet: saving creates it.";
        clear(status);
      } else clear(status, note(err instanceof ApiError ? err.message : String(err), "error"));
    }
  };

  const select = (path: string): void => {
    const span = locate(editor.value, path);
    editor.focus();
    if (!span) return;
    editor.setSelectionRange(span[0], span[1]);
    // Scroll the selection into view: textarea has no API for it, so by its line.
    const line = editor.value.slice(0, span[0]).split("\n").length - 1;
    const lineHeight = parseFloat(getComputedStyle(editor).lineHeight) || 18;
    editor.scrollTop = Math.max(0, line * lineHeight - editor.clientHeight / 3);
  };

  const listProblems = (message: string, details: Problem[]): void => {
    clear(
      problems,
      h("h3", { id: "problems-h" }, `${details.length || 1} problem${details.length === 1 ? "" : "s"}`),
      h("p", {}, message),
      h(
        "ul",
        { class: "problems", "aria-labelledby": "problems-h" },
        details.map((d) =>
          h(
            "li",
            {},
            h("button", { type: "button", class: "linklike", "data-field": d.field, title: "select this field in the editor", onclick: () => select(d.field) }, h("code", {}, d.field)),
            `: ${d.message}`,
          ),
        ),
      ),
    );
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clear(problems);
    clear(status);
    let doc: unknown;
    try {
      doc = JSON.parse(editor.value);
    } catch (err) {
      listProblems("The document is not JSON.", [{ field: "body", message: String((err as Error).message) }]);
      return;
    }
    save.disabled = true;
    try {
      const res = await call<Saved>("PUT", programPath(pid), doc);
      forget(pid); // its currency and tier names may have changed
      version.textContent = `Current version: ${res.version}`;
      clear(
        status,
        note(`Saved version ${res.version}`, "ok"),
        res.warnings.length ? table("Pricing warnings", Object.keys(res.warnings[0]), res.warnings.map((w) => Object.values(w))) : null,
      );
      void loadVersions(versions, pid, editor);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      clear(status, note(`Not saved: ${err.code}`, "error"));
      listProblems(err.message, err.details);
    } finally {
      save.disabled = false;
    }
  });
  reload.addEventListener("click", () => void load());
  format.addEventListener("click", () => {
    try {
      editor.value = JSON.stringify(JSON.parse(editor.value), null, 2);
    } catch (err) {
      listProblems("The document is not JSON.", [{ field: "body", message: String((err as Error).message) }]);
    }
  });
  void load();
  void loadVersions(versions, pid, editor);
}

type Versions = { versions: { version: number; saved_at: string; saved_by?: string | null; published_by?: string | null; restored_from?: number | null; draft_id?: string | null }[]; next_cursor: string | null };

async function loadVersions(section: HTMLElement, pid: string, editor: HTMLTextAreaElement): Promise<void> {
  const heading = section.firstElementChild as HTMLElement;
  const viewer = h("div", {});
  const rows: (string | Node)[][] = [];
  const listing = h("div", {});
  const show = async (v: number): Promise<void> => {
    try {
      const saved = await call<{ document: unknown }>("GET", `${programPath(pid)}/versions/${enc(String(v))}`);
      const text = JSON.stringify(saved.document, null, 2);
      const area = h("textarea", { rows: 14, readonly: true, class: "code" });
      area.value = text;
      clear(
        viewer,
        field("version-doc", `Version ${v} (read only)`, area),
        h("button", { type: "button", class: "secondary", onclick: () => { editor.value = text; editor.focus(); } }, `Copy version ${v} into the editor`),
        h("button", { type: "button", class: "secondary", id: "version-restore", onclick: () => void restore(v) }, `Restore version ${v} as a new version`),
      );
    } catch (err) {
      clear(viewer, note(err instanceof ApiError ? err.message : String(err), "error"));
    }
  };
  const restore = async (v: number): Promise<void> => {
    try {
      const saved = await call<Saved>("POST", `${programPath(pid)}/versions/${enc(String(v))}/restore`, {});
      forget(pid);
      viewer.append(note(`Restored: version ${saved.version} is version ${v}'s document`, "ok"));
    } catch (err) {
      viewer.append(note(err instanceof ApiError ? err.message : String(err), "error"));
    }
  };
  const page = async (cursor: string | null): Promise<void> => {
    const list = await call<Versions>("GET", `${programPath(pid)}/versions${cursor ? `?cursor=${enc(cursor)}` : ""}`);
    rows.push(...list.versions.map((v) => [
      String(v.version), v.saved_at, v.saved_by ?? "—",
      `${v.published_by ?? "—"}${v.draft_id ? ` (draft ${v.draft_id})` : ""}${v.restored_from ? ` (restored ${v.restored_from})` : ""}`,
      h("button", { type: "button", class: "secondary", onclick: () => void show(v.version) }, `Show version ${v.version}`),
    ]));
    const more = list.next_cursor
      ? h("button", { type: "button", class: "secondary", onclick: () => void page(list.next_cursor).catch(fail) }, "More versions")
      : null;
    clear(listing, table("Saved versions, newest first", ["version", "saved at", "saved by", "published by", ""], rows, "none"), more);
  };
  const fail = (err: unknown): void => clear(section, heading, note(err instanceof ApiError ? err.message : String(err), "error"));
  try {
    await page(null);
    clear(section, heading, listing, viewer);
  } catch (err) {
    fail(err);
  }
}

function quotePanel(pid: string): HTMLElement {
  const mid = h("input", { type: "text", required: true, autocomplete: "off", pattern: "[A-Za-z0-9_.:\\-]{1,64}" });
  const amount = h("input", { type: "number", required: true, min: 0, step: 1, value: 5000, inputmode: "numeric" });
  const category = h("input", { type: "text", autocomplete: "off" });
  const out = h("div", { id: "quote-result", "aria-live": "polite" });
  const form = h(
    "form",
    { class: "card", "aria-labelledby": "quote-h" },
    h("h2", { id: "quote-h" }, "Try it: quote a purchase"),
    h("p", { class: "hint" }, "Evaluates the current program on a member; nothing is written."),
    h("div", { class: "inline" },
      field("quote-member", "Member id", mid),
      field("quote-amount", "Amount (minor units)", amount),
      field("quote-category", "Item category (optional)", category, "one line of the whole amount"),
      h("button", { type: "submit" }, "Quote"),
    ),
    out,
  );
  void facts(pid).then(({ currency }) => {
    const label = form.querySelector("label[for=quote-amount]");
    if (label && currency) label.textContent = `Amount (${currency}, minor units)`;
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    const amountMinor = Number(amount.value);
    const body: Record<string, unknown> = { order_id: newId("quote"), amount_minor: amountMinor };
    if (category.value.trim()) body.items = [{ sku: "sample", category: category.value.trim(), amount_minor: amountMinor }];
    clear(out, note("Quoting…"));
    try {
      const [q, { money, tier }] = await Promise.all([call<Quote>("POST", `${memberPath(pid, mid.value)}/quotes`, body), facts(pid)]);
      clear(
        out,
        h("dl", { class: "figures" },
          h("div", { class: "figure" }, h("dt", {}, "Points"), h("dd", { id: "quote-points" }, num(q.points_earned))),
          h("div", { class: "figure" }, h("dt", {}, "Multiplier"), h("dd", {}, q.breakdown.multiplier)),
          h("div", { class: "figure" }, h("dt", {}, "Tier after"), h("dd", {}, `${tier(q.tier)}${q.tier_changed ? " (changes)" : " (no change)"}`)),
          h("div", { class: "figure" }, h("dt", {}, "Growth"), h("dd", {}, num(q.growth))),
          h("div", { class: "figure" }, h("dt", {}, "Balance after"), h("dd", {}, num(q.balance))),
        ),
        q.breakdown.calculation ? h("p", {}, q.breakdown.calculation) : null,
        table("Campaigns applied", ["campaign", "points", "multiplier", "coupons", "growth", "tags"], q.breakdown.campaigns.map((c) => [
          c.campaign_id, num(c.points), c.multiplier ?? "—", c.coupons.join(", ") || "—", num(c.growth), c.tags.join(", ") || "—",
        ]), "none"),
        table("Usable coupons on this order", ["coupon", "name", "discount"], q.usable_coupons.map((c) => [c.coupon_id, c.name, money(c.discount_minor)]), "none"),
      );
    } catch (err) {
      clear(out, note(err instanceof ApiError ? `${err.message}${err.details.length ? `: ${err.details.map((d) => `${d.field} ${d.message}`).join("; ")}` : ""}` : String(err), "error"));
    }
  });
  return form;
}
