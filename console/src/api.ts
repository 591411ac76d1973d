// Locally: same-origin calls to the local runtime, no sign-in (server routes are open there, API.md).
// In AWS (aws.ts): the API's own URL, every call signed with the operator's credentials.

type Fetcher = (url: string, init: RequestInit) => Promise<Response>;
let base = "";
let fetcher: Fetcher = (url, init) => fetch(url, init);
export let mode: "local" | "aws" = "local";

export function useAws(apiUrl: string, signed: Fetcher): void {
  base = apiUrl.replace(/\/+$/, "");
  fetcher = signed;
  mode = "aws";
}

export interface Problem {
  field: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Problem[] = [],
    readonly contract = true, // false: API Gateway's own answer (no such route), not the handler's
  ) {
    super(message);
  }
}

export async function call<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  const init: RequestInit = { method, headers: { ...headers, accept: "application/json" } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { ...init.headers, "content-type": "application/json" };
  }
  let resp: Response;
  try {
    resp = await fetcher(base + path, init);
  } catch (err) {
    throw new ApiError(0, "network", `the runtime did not answer (${String(err)})`);
  }
  const text = await resp.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!resp.ok) {
    // The contract's shape; API Gateway's own answers (no route) are {"message": "..."}.
    const err = (data as { error?: { code?: string; message?: string; details?: Problem[] } } | null)?.error;
    const plain = (data as { message?: string } | null)?.message;
    throw new ApiError(
      resp.status,
      err?.code ?? (resp.status === 404 ? "not_found" : "error"),
      err?.message ?? plain ?? `${resp.status} ${resp.statusText}`,
      // Only the details that name a field (a 409's details carry figures, e.g. needed/available).
      Array.isArray(err?.details) ? err.details.filter((d) => typeof d?.field === "string") : [],
      err !== undefined,
    );
  }
  return data as T;
}

export const enc = encodeURIComponent;
export const programPath = (pid: string): string => `/programs/${enc(pid)}`;
export const memberPath = (pid: string, mid: string): string => `${programPath(pid)}/members/${enc(mid)}`;

