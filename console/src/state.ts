// The route and the program id: in the hash (#/page?program=...&member=...), so a view can be linked.

export const DEFAULT_PROGRAM = "demo-coffee"; // what `make dev` loads (local/__main__.py DEMO_ID)
const KEY = "loyalty-console.program";

export interface Route {
  page: string;
  params: URLSearchParams;
}

export function route(): Route {
  const raw = location.hash.replace(/^#\/?/, "");
  const [page, query = ""] = raw.split("?", 2);
  return { page: page || "health", params: new URLSearchParams(query) };
}

export function program(): string {
  return route().params.get("program") || localStorage.getItem(KEY) || DEFAULT_PROGRAM;
}

export function rememberProgram(pid: string): void {
  localStorage.setItem(KEY, pid);
  const seen = new Set(JSON.parse(localStorage.getItem(`${KEY}s`) || "[]") as string[]);
  seen.add(pid);
  localStorage.setItem(`${KEY}s`, JSON.stringify([...seen].slice(-20)));
}

export function knownPrograms(): string[] {
  return JSON.parse(localStorage.getItem(`${KEY}s`) || "[]") as string[];
}

/** Change the hash's parameters without a new history entry per keystroke-driven change. */
export function setParams(changes: Record<string, string | null>, replace = true): void {
  const { page, params } = route();
  for (const [k, v] of Object.entries(changes)) {
    if (v === null || v === "") params.delete(k);
    else params.set(k, v);
  }
  const hash = `#/${page}${params.size ? `?${params}` : ""}`;
  if (replace) history.replaceState(null, "", hash);
  else location.hash = hash;
}
