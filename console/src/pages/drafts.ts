// Drafts (PUT/GET .../drafts/{id}, POST .../publish, POST/GET .../shadow): edit a draft of the program,
// see its problems, compare it with the live version line by line, publish it (a 409 offers force), and
// run it in the shadow of live traffic with the comparison table.
import { ApiError, type Problem, call, enc, programPath } from "../api";
import { clear, field, h, note, num, table } from "../dom";
import { forget } from "../programs";

interface Draft {
  draft_id: string;
  document: Record<string, unknown>;
  base_version: number;
  revision: number;
  saved_at: string;
  saved_by: string | null;
  published_version: number | null;
}
interface Side {
  points: number;
  coupons: number;
  discount_minor: number;
  members_reached: number;
  cost_minor: number;
}
interface Shadow {
  events: number;
  total: { draft: Side; live: Side };
  campaigns: { campaign_id: string; draft: Side; live: Side }[];
}

const FIGURES: (keyof Side)[] = ["points", "coupons", "discount_minor", "members_reached", "cost_minor"];

/** A line diff (longest common subsequence) of two texts: each line kept, removed (-) or added (+). */
export function lineDiff(before: string, after: string): [" " | "-" | "+", string][] {
  const a = before.split("\n");
  const b = after.split("\n");
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const out: [" " | "-" | "+", string][] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push([" ", a[i++]]);
      j++;
    } else if (lcs[i + 1][j] >= lcs[i][j + 1]) out.push(["-", a[i++]]);
    else out.push(["+", b[j++]]);
  }
  while (i < n) out.push(["-", a[i++]]);
  while (j < m) out.push(["+", b[j++]]);
  return out;
}

const pretty = (doc: unknown): string => JSON.stringify(doc, null, 2);

async function liveDocument(pid: string): Promise<{ version: number; doc: Record<string, unknown> } | null> {
  try {
    const { program_id: _id, version, ...doc } = await call<Record<string, unknown>>("GET", programPath(pid));
    return { version: Number(version), doc };
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}

function problemsList(out: HTMLElement, message: string, details: Problem[]): void {
  clear(
    out,
    h("h3", { id: "draft-problems-h" }, `${details.length || 1} problem${details.length === 1 ? "" : "s"}`),
    h("p", {}, message),
    h("ul", { class: "problems", "aria-labelledby": "draft-problems-h" }, details.map((d) => h("li", {}, h("code", {}, d.field), `: ${d.message}`))),
  );
}

function diffView(out: HTMLElement, live: { version: number; doc: unknown } | null, text: string): void {
  let draft: unknown;
  try {
    draft = JSON.parse(text);
  } catch {
    clear(out, note("The draft is not JSON: no diff.", "error"));
    return;
  }
  const lines = lineDiff(live ? pretty(live.doc) : "", pretty(draft));
  const changed = lines.filter(([k]) => k !== " ").length;
  const pre = h("pre", { class: "code diff", id: "draft-diff-lines", tabindex: 0, "aria-label": "line diff, live then draft" });
  for (const [kind, line] of lines) pre.append(h(kind === "+" ? "ins" : kind === "-" ? "del" : "span", {}, `${kind} ${line}`));
  clear(out, h("p", { class: "hint", id: "draft-diff-summary" }, `${changed} line${changed === 1 ? "" : "s"} differ from live version ${live?.version ?? "(none)"}.`), pre);
}

function shadowTable(s: Shadow): HTMLElement {
  const row = (label: string, d: Side, l: Side): (string | Node)[] => [label, ...FIGURES.flatMap((k) => [num(d[k]), num(l[k])])];
  const headers = ["", ...FIGURES.flatMap((k) => [`${k.replace("_minor", "").replace("_", " ")} (draft)`, `(live)`])];
  return h(
    "div",
    { id: "shadow-report" },
    h("p", {}, "Live events evaluated against the draft: ", h("strong", { id: "shadow-events" }, num(s.events))),
    table("What the draft would have given, beside what the live program gave", headers, [
      row("Total", s.total.draft, s.total.live),
      ...s.campaigns.map((c) => row(c.campaign_id, c.draft, c.live)),
    ]),
  );
}

export function draftsPage(root: HTMLElement, pid: string, params: URLSearchParams): void {
  const id = h("input", { type: "text", required: true, autocomplete: "off", pattern: "[A-Za-z0-9_.:\\-]{1,64}", value: params.get("draft") ?? "next" });
  const open = h("form", { class: "inline", "aria-label": "Open a draft" }, field("draft-id", "Draft id", id), h("button", { type: "submit", class: "secondary" }, "Open"));
  const editor = h("textarea", { rows: 24, spellcheck: "false", autocomplete: "off", class: "code" });
  const info = h("p", { class: "hint", id: "draft-info" });
  const status = h("div", { id: "draft-status", "aria-live": "polite" });
  const problems = h("div", { id: "draft-problems" });
  const form = h(
    "form",
    { class: "editor", "aria-labelledby": "draft-h" },
    h("h2", { id: "draft-h" }, "Draft"),
    info,
    h("div", { class: "editor-grid" }, h("div", {}, field("draft-doc", "Draft document (JSON)", editor)), h("div", {}, status, problems)),
    h("div", { class: "buttons" }, h("button", { type: "submit", id: "draft-save" }, "Save draft")),
  );
  const diff = h("div", { id: "draft-diff" });
  const diffSection = h("section", { class: "card", "aria-labelledby": "diff-h" }, h("h2", { id: "diff-h" }, "Against the live version"),
    h("button", { type: "button", class: "secondary", id: "draft-diff-show" }, "Show the diff"), diff);
  const force = h("input", { type: "checkbox" });
  const published = h("div", { id: "draft-published", "aria-live": "polite" });
  const publish = h("section", { class: "card", "aria-labelledby": "publish-h" }, h("h2", { id: "publish-h" }, "Publish"),
    h("p", { class: "hint" }, "Makes the saved draft the next live version. Refused (409) when the live version moved since the draft's base, unless forced."),
    h("div", { class: "inline" }, h("label", { class: "check" }, force, " Force (replace a live version that moved)"), h("button", { type: "button", id: "draft-publish" }, "Publish the draft")),
    published);
  force.id = "draft-force";
  const until = h("input", { type: "datetime-local", required: true });
  const shadowOut = h("div", { id: "shadow-out", "aria-live": "polite" });
  const shadow = h("section", { class: "card", "aria-labelledby": "shadow-h" }, h("h2", { id: "shadow-h" }, "Shadow run"),
    h("p", { class: "hint" }, "Until then every live purchase and activity is also evaluated against the saved draft; the draft gives nothing. Figures come from the stream, a moment behind."),
    h("div", { class: "inline" }, field("shadow-until", "Until (your local time)", until), h("button", { type: "button", id: "shadow-start" }, "Start the shadow run"), h("button", { type: "button", class: "secondary", id: "shadow-refresh" }, "Refresh the comparison")),
    shadowOut);
  until.value = new Date(Date.now() + 7 * 86400_000 - new Date().getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
  root.append(open, form, diffSection, publish, shadow);

  const path = (): string => `${programPath(pid)}/drafts/${enc(id.value)}`;
  const fail = (out: HTMLElement, err: unknown): void => clear(out, note(err instanceof ApiError ? err.message : String(err), "error"));
  const describe = (d: Draft): void => {
    info.textContent = `Revision ${d.revision}, based on live version ${d.base_version}; saved ${d.saved_at} by ${d.saved_by ?? "—"}${d.published_version ? `; last published as version ${d.published_version}` : ""}.`;
  };

  const load = async (): Promise<void> => {
    clear(status, note("Loading…"));
    clear(problems);
    clear(diff);
    clear(published);
    clear(shadowOut);
    try {
      const d = await call<Draft>("GET", path());
      editor.value = pretty(d.document);
      describe(d);
      clear(status);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) return fail(status, err);
      const live = await liveDocument(pid).catch(() => null);
      editor.value = live ? pretty(live.doc) : "{\n}";
      info.textContent = `No draft ${id.value} yet: this is the live document${live ? ` (version ${live.version})` : ""}; saving makes the draft.`;
      clear(status);
    }
  };
  open.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!open.reportValidity()) return;
    history.replaceState(null, "", `#/drafts?draft=${enc(id.value)}`);
    void load();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clear(problems);
    let doc: unknown;
    try {
      doc = JSON.parse(editor.value);
    } catch (err) {
      problemsList(problems, "The document is not JSON.", [{ field: "body", message: String((err as Error).message) }]);
      return;
    }
    try {
      const d = await call<Draft>("PUT", path(), doc);
      describe(d);
      clear(status, note(`Saved revision ${d.revision}: no problems`, "ok"));
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      clear(status, note(`Not saved: ${err.code}`, "error"));
      problemsList(problems, err.message, err.details);
    }
  });
  (diffSection.querySelector("#draft-diff-show") as HTMLButtonElement).addEventListener("click", async () => {
    try {
      diffView(diff, await liveDocument(pid), editor.value);
    } catch (err) {
      fail(diff, err);
    }
  });
  (publish.querySelector("#draft-publish") as HTMLButtonElement).addEventListener("click", async () => {
    try {
      const res = await call<{ version: number }>("POST", `${path()}/publish`, { force: force.checked });
      forget(pid);
      clear(published, note(`Published: live version ${res.version}`, "ok"));
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) {
        clear(published, h("p", { class: "msg error", role: "alert", id: "draft-conflict" }, `409 ${err.code}: ${err.message}`), h("p", { class: "hint" }, "Check “Force” to publish anyway, replacing the live version."));
      } else fail(published, err);
    }
  });
  const refresh = async (): Promise<void> => {
    try {
      clear(shadowOut, shadowTable(await call<Shadow>("GET", `${path()}/shadow`)));
    } catch (err) {
      fail(shadowOut, err);
    }
  };
  (shadow.querySelector("#shadow-start") as HTMLButtonElement).addEventListener("click", async () => {
    if (!until.reportValidity()) return;
    try {
      const started = await call<{ until: string; revision: number }>("POST", `${path()}/shadow`, { until: new Date(until.value).toISOString() });
      const report = await call<Shadow>("GET", `${path()}/shadow`);
      clear(shadowOut, note(`Shadow run of revision ${started.revision} until ${started.until}`, "ok"), shadowTable(report));
    } catch (err) {
      fail(shadowOut, err);
    }
  });
  (shadow.querySelector("#shadow-refresh") as HTMLButtonElement).addEventListener("click", () => void refresh());
  void load();
}
