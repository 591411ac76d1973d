import { ApiError, call, enc } from "../api";
import { clear, field, h, note } from "../dom";

const DOCS: Record<string, string> = {
  ExpirePointsFunction: "points past their expiry leave the balance",
  ChurnSweepFunction: "churn warnings and recall offers for members past after_days",
  EvaluateTierFunction: "the periodic tier review",
  IssueBenefitsFunction: "tier, paid-card cycle and birthday benefits due",
};

/** `YYYY-MM-DDTHH:MM` in local time, what a datetime-local input holds. */
const localNow = (): string => {
  const d = new Date();
  d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
  return d.toISOString().slice(0, 16);
};

export function scheduled(root: HTMLElement): void {
  const at = h("input", { type: "datetime-local", required: true, value: localNow(), step: 60 });
  const buttons = h("div", { class: "buttons", role: "group", "aria-label": "Run a scheduled function" });
  const out = h("div", { id: "scheduled-result", "aria-live": "polite" });
  root.append(
    h("p", { class: "hint" }, "Runs a scheduled function of the template now, as if its schedule fired at the chosen time; it answers once the work it queued is done. Running one twice for the same time changes nothing the second time."),
    h("form", { class: "inline", onsubmit: (e: Event) => e.preventDefault() }, field("scheduled-at", "Run time (your local time)", at)),
    buttons,
    out,
  );
  void (async () => {
    try {
      const { functions } = await call<{ functions: string[] }>("GET", "/_local/scheduled");
      clear(buttons, ...functions.map((fn) => h("button", { type: "button", "data-function": fn, title: DOCS[fn] ?? fn, onclick: () => void run(fn) }, `Run ${fn}`)));
      if (!functions.length) clear(buttons, note("The template has no scheduled functions."));
    } catch (err) {
      clear(buttons, note(err instanceof ApiError ? err.message : String(err), "error"));
    }
  })();

  const run = async (fn: string): Promise<void> => {
    if (!at.reportValidity()) return;
    const instant = new Date(at.value).toISOString();
    buttons.querySelectorAll("button").forEach((b) => (b.disabled = true));
    clear(out, note(`Running ${fn} at ${instant}…`));
    const started = performance.now();
    try {
      const result = await call<unknown>("POST", `/_local/scheduled/${enc(fn)}`, { at: instant });
      const ms = Math.round(performance.now() - started);
      clear(out, note(`${fn} at ${instant}: done in ${ms} ms`, "ok"), h("pre", { class: "code", tabindex: 0, "aria-label": `${fn} result` }, JSON.stringify(result, null, 2)));
    } catch (err) {
      clear(out, note(err instanceof ApiError ? err.message : String(err), "error"));
    } finally {
      buttons.querySelectorAll("button").forEach((b) => (b.disabled = false));
    }
  };
}
