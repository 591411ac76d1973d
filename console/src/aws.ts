// The console in AWS (config.json says so; console/deploy.py writes it): operators sign in through the
// user pool's hosted UI (authorization code with PKCE), the identity pool trades the id token for the
// `operators` group's role, and every API call is signed with SigV4 (aws4fetch). Loaded on demand, so the
// local console's first load does not carry it.
import { AwsClient } from "aws4fetch";

export interface AwsConfig {
  mode: "aws";
  region: string;
  api_url: string; // https://{api}.execute-api.{region}.amazonaws.com
  sign_in_domain: string; // https://{domain}.auth.{region}.amazoncognito.com
  client_id: string;
  identity_pool_id: string;
  user_pool_provider: string; // cognito-idp.{region}.amazonaws.com/{user pool id}
  identity_endpoint?: string; // default https://cognito-identity.{region}.amazonaws.com/
}

export interface Signed {
  fetcher: (url: string, init: RequestInit) => Promise<Response>;
  user: string;
  signOut: () => void;
}

const SESSION = "loyalty-console.session"; // sessionStorage: gone with the tab
const PENDING = "loyalty-console.pending"; // the PKCE verifier, state and hash across the redirect

interface Session {
  id_token: string;
  expires_at: number; // ms since the epoch
}

interface Credentials {
  AccessKeyId: string;
  SecretKey: string;
  SessionToken: string;
  Expiration: number; // seconds since the epoch
}

export class SignInError extends Error {}

const b64url = (bytes: Uint8Array): string =>
  btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

const random = (n: number): string => b64url(crypto.getRandomValues(new Uint8Array(n)));

// The client's one callback URL (template.yaml ConsoleUserPoolClient), whichever path the console was opened at.
const redirectUri = (): string => `${location.origin}${import.meta.env.BASE_URL}`;

function claims(token: string): Record<string, unknown> {
  const part = token.split(".")[1] ?? "";
  const json = atob(part.replace(/-/g, "+").replace(/_/g, "/"));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0)))) as Record<string, unknown>;
}

async function authorize(cfg: AwsConfig): Promise<never> {
  const verifier = random(48);
  const state = random(16);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, hash: location.hash }));
  const query = new URLSearchParams({
    response_type: "code",
    client_id: cfg.client_id,
    redirect_uri: redirectUri(),
    scope: "openid email",
    state,
    code_challenge: b64url(digest),
    code_challenge_method: "S256",
  });
  location.assign(`${cfg.sign_in_domain}/oauth2/authorize?${query}`);
  return new Promise<never>(() => undefined); // the page is leaving
}

/** The hosted UI came back with ?code=&state=: trade it for tokens (the verifier proves it is ours). */
async function redeem(cfg: AwsConfig, code: string, state: string | null): Promise<Session> {
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? "null") as { verifier: string; state: string; hash: string } | null;
  sessionStorage.removeItem(PENDING);
  history.replaceState(null, "", redirectUri() + (pending?.hash ?? ""));
  if (!pending || pending.state !== state) throw new SignInError("the sign-in answer does not match this tab's request; sign in again");
  const resp = await fetch(`${cfg.sign_in_domain}/oauth2/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      client_id: cfg.client_id,
      code,
      redirect_uri: redirectUri(),
      code_verifier: pending.verifier,
    }),
  });
  const body = (await resp.json().catch(() => ({}))) as { id_token?: string; expires_in?: number; error?: string };
  if (!resp.ok || !body.id_token) throw new SignInError(`sign-in failed: ${body.error ?? resp.status}`);
  const session = { id_token: body.id_token, expires_at: Date.now() + (body.expires_in ?? 3600) * 1000 };
  sessionStorage.setItem(SESSION, JSON.stringify(session));
  return session;
}

async function identity<T>(cfg: AwsConfig, action: string, body: unknown): Promise<T> {
  const endpoint = cfg.identity_endpoint ?? `https://cognito-identity.${cfg.region}.amazonaws.com/`;
  const resp = await fetch(endpoint, {
    method: "POST",
    headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": `AWSCognitoIdentityService.${action}` },
    body: JSON.stringify(body),
  });
  const data = (await resp.json().catch(() => ({}))) as T & { __type?: string; message?: string };
  if (!resp.ok) {
    // A user outside the operators group has no role to map to: the pool refuses (AmbiguousRoleResolution Deny).
    throw new SignInError(`no console access for this account (${data.__type ?? resp.status}: ${data.message ?? "refused"}); operators are in the user pool group "operators"`);
  }
  return data;
}

async function credentials(cfg: AwsConfig, session: Session): Promise<Credentials> {
  const logins = { [cfg.user_pool_provider]: session.id_token };
  const { IdentityId } = await identity<{ IdentityId: string }>(cfg, "GetId", { IdentityPoolId: cfg.identity_pool_id, Logins: logins });
  const { Credentials } = await identity<{ Credentials: Credentials }>(cfg, "GetCredentialsForIdentity", { IdentityId, Logins: logins });
  return Credentials;
}

export async function signIn(cfg: AwsConfig): Promise<Signed> {
  const url = new URL(location.href);
  const code = url.searchParams.get("code");
  let session = code
    ? await redeem(cfg, code, url.searchParams.get("state"))
    : (JSON.parse(sessionStorage.getItem(SESSION) ?? "null") as Session | null);
  if (!session || session.expires_at < Date.now() + 60_000) return authorize(cfg);
  const signer = (c: Credentials): AwsClient =>
    new AwsClient({ accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretKey, sessionToken: c.SessionToken, service: "execute-api", region: cfg.region });
  let creds = await credentials(cfg, session);
  let client = signer(creds);
  const fetcher = async (target: string, init: RequestInit): Promise<Response> => {
    if (creds.Expiration * 1000 < Date.now() + 60_000) {
      // The role's credentials last an hour; past the id token's life the operator signs in again.
      if (session === null || session.expires_at < Date.now() + 60_000) return authorize(cfg);
      creds = await credentials(cfg, session);
      client = signer(creds);
    }
    return client.fetch(target, init);
  };
  const who = claims(session.id_token);
  const signOut = (): void => {
    sessionStorage.removeItem(SESSION);
    session = null;
    location.assign(`${cfg.sign_in_domain}/logout?${new URLSearchParams({ client_id: cfg.client_id, logout_uri: redirectUri() })}`);
  };
  return { fetcher, user: String(who.email ?? who["cognito:username"] ?? who.sub ?? "operator"), signOut };
}
