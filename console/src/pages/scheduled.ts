import { ApiError, call, enc, mode } from "../api";
import { clear, field, figures, h, note, num, table } from "../dom";

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

interface Run {
  kinds: string[];
  at: string;
  ran_at: string;
  planned: number;
  members_settled: number;
}
interface ScheduledWork {
  runs: Run[];
  queues: Record<string, { waiting: number; in_flight: number }>;
}

/** The planners' last runs and the queues' depths (GET /operations/scheduled): all AWS shows, read-only. */
async function status(section: HTMLElement): Promise<Run[]> {
  const heading = section.firstElementChild as HTMLElement;
  try {
    const work = await call<ScheduledWork>("GET", "/operations/scheduled");
    clear(
      section,
      heading,
      table("Last run of each planner", ["work", "scheduled for", "ran at", "items planned", "members settled"],
        work.runs.map((r) => [r.kinds.join(", "), r.at, r.ran_at, num(r.planned), num(r.members_settled)]), "no planner has run yet"),
      table("Queues", ["queue", "waiting", "in flight"],
        Object.entries(work.queues).map(([q, d]) => [q, num(d.waiting), num(d.in_flight)])),
    );
    return work.runs;
  } catch (err) {
    clear(section, heading, note(err instanceof ApiError ? err.message : String(err), "error"));
    return [];
  }
}

/** A planner's answer names its run: its kinds and time. */
interface Planned {
  time: string;
  kinds: string[];
  planned: number;
}
const sameRun = (r: Run, p: Planned): boolean => r.kinds.join() === p.kinds.join() && Date.parse(r.at) === Date.parse(p.time);

export function scheduled(root: HTMLElement): void {
  const work = h("section", { "aria-labelledby": "work-h" }, h("h2", { id: "work-h" }, "Last runs and queues"), note("Loading…"));
  const scope = h("p", { class: "hint" }, "A run covers every program in the table, not only the program chosen above.");
  void status(work);
  if (mode === "aws") {
    // In AWS the schedules run the functions; the console only watches (the operator role invokes no function).
    root.append(h("p", { class: "hint" }, "EventBridge Scheduler runs these functions; this page shows what they last did."), scope, work);
    return;
  }
  const at = h("input", { type: "datetime-local", required: true, value: localNow(), step: 60 });
  const buttons = h("div", { class: "buttons", role: "group", "aria-label": "Run a scheduled function" });
  const out = h("div", { id: "scheduled-result", "aria-live": "polite" });
  root.append(
    h("p", { class: "hint" }, "Runs a scheduled function of the template now, as if its schedule fired at the chosen time; it answers once the work it queued is done. Running one twice for the same time changes nothing the second time."),
    scope,
    h("form", { class: "inline", onsubmit: (e: Event) => e.preventDefault() }, field("scheduled-at", "Run time (your local time)", at)),
    buttons,
    out,
    work,
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
      const result = await call<Planned>("POST", `/_local/scheduled/${enc(fn)}`, { at: instant });
      const ms = Math.round(performance.now() - started);
      // The planner only queues; what its workers settled is counted on its run's record.
      const run = (await status(work)).find((r) => sameRun(r, result));
      clear(
        out,
        note(`${fn} at ${instant}: done in ${ms} ms`, "ok"),
        figures([
          ["Work items planned", num(result.planned)],
          ["Members settled", h("span", { id: "scheduled-settled" }, run ? num(run.members_settled) : "—")],
        ]),
        h("pre", { class: "code", tabindex: 0, "aria-label": `${fn} result` }, JSON.stringify(result, null, 2)),
      );
    } catch (err) {
      clear(out, note(err instanceof ApiError ? err.message : String(err), "error"));
    } finally {
      buttons.querySelectorAll("button").forEach((b) => (b.disabled = false));
    }
  };
}
