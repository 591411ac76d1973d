import "./style.css";
import { destroyCharts } from "./charts";
import { useAws } from "./api";
import type { AwsConfig } from "./aws"; // a type only: aws.ts itself loads on demand
import { clear, h } from "./dom";
import { campaignsPage } from "./pages/campaigns";
import { draftsPage } from "./pages/drafts";
import { grantsPage } from "./pages/grants";
import { health } from "./pages/health";
import { member } from "./pages/member";
import { membersPage } from "./pages/members";
import { programPage } from "./pages/program";
import { scheduled } from "./pages/scheduled";
import * as state from "./state";

export type Page = (root: HTMLElement, pid: string, params: URLSearchParams) => void;

// `table`: the page covers every program in the table (a scheduled run does), so it names none.
const PAGES: Record<string, { title: string; render: Page; table?: boolean }> = {
  health: { title: "Program health", render: health },
  campaigns: { title: "Campaigns", render: campaignsPage },
  grants: { title: "Grants", render: grantsPage },
  member: { title: "Member", render: member },
  members: { title: "Members", render: membersPage },
  program: { title: "Program document", render: programPage },
  drafts: { title: "Drafts", render: draftsPage },
  scheduled: { title: "Scheduled work", render: scheduled, table: true },
};

const main = document.getElementById("main") as HTMLElement;
const form = document.getElementById("program-form") as HTMLFormElement;
const input = document.getElementById("program-id") as HTMLInputElement;
const known = document.getElementById("program-ids") as HTMLDataListElement;
let first = true;

function render(): void {
  destroyCharts();
  const { page, params } = state.route();
  const entry = PAGES[page];
  const pid = state.program();
  input.value = pid;
  clear(known, ...state.knownPrograms().map((p) => h("option", { value: p })));
  for (const link of document.querySelectorAll<HTMLAnchorElement>("nav a")) {
    if (link.getAttribute("href") === `#/${page}`) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (!entry) {
    document.title = "Not found · Loyalty console";
    clear(main, h("h1", {}, "No such page"), h("p", {}, h("a", { href: "#/health" }, "Go to program health")));
    return;
  }
  document.title = `${entry.title}${entry.table ? "" : ` · ${pid}`} · Loyalty console`;
  clear(main, h("h1", {}, entry.title, entry.table ? null : h("span", { class: "pid" }, ` · ${pid}`)));
  entry.render(main, pid, params);
  // A new page moves the focus to its content, as a page load would for a screen reader.
  if (!first) main.focus();
  first = false;
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  if (!input.reportValidity()) return;
  state.rememberProgram(input.value);
  state.setParams({ program: input.value });
  render();
});

/** config.json is {"mode": "local"} in the build; console/deploy.py writes the AWS one next to it. */
async function start(): Promise<void> {
  const config = (await fetch(`${import.meta.env.BASE_URL}config.json`, { cache: "no-store" }).then((r) => r.json()).catch(() => ({}))) as { mode?: string };
  if (config.mode === "aws") {
    const { signIn } = await import("./aws");
    try {
      const signed = await signIn(config as AwsConfig);
      useAws((config as AwsConfig).api_url, signed.fetcher);
      const badge = document.querySelector(".brand small") as HTMLElement;
      badge.textContent = "AWS";
      document.querySelector("header.top")?.append(
        h("span", { class: "user" }, `Signed in as ${signed.user} `, h("button", { type: "button", class: "secondary", onclick: signed.signOut }, "Sign out")),
      );
    } catch (err) {
      clear(main, h("h1", {}, "Sign-in"), h("p", { class: "msg error", role: "alert" }, String(err instanceof Error ? err.message : err)));
      return;
    }
  }
  window.addEventListener("hashchange", render);
  state.rememberProgram(state.program());
  render();
}

void start();
