// Who is calling. Locally: a local user id, sent as `Authorization: Bearer <user>`.
// Deployed: Cognito's hosted UI (authorization code with PKCE), sending the ID token.
const LOCAL_USER = "bp.localUser";
const TOKENS = "bp.tokens";
const PENDING = "bp.pkce";

let config = { auth: "local" };
let onSignedOut = () => {};

export function configure(loaded, signedOutHandler) {
  config = loaded;
  onSignedOut = signedOutHandler;
}

export const isLocal = () => config.auth !== "cognito";

export function signedOut(reason) {
  if (isLocal()) localStorage.removeItem(LOCAL_USER);
  else sessionStorage.removeItem(TOKENS);
  onSignedOut(reason);
}

// ---- local -------------------------------------------------------------------------
export const localUser = () => localStorage.getItem(LOCAL_USER);
export function signInLocally(user) {
  localStorage.setItem(LOCAL_USER, user);
}

// ---- Cognito hosted UI ---------------------------------------------------------------
const base64url = (bytes) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

function randomText(size) {
  return base64url(crypto.getRandomValues(new Uint8Array(size)));
}

async function challengeOf(verifier) {
  return base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
}

/** Send the browser to the hosted UI; it comes back to redirect_uri with ?code=&state=. */
export async function signInWithCognito() {
  const { domain, client_id: clientId, redirect_uri: redirectUri } = config.cognito;
  const verifier = randomText(64);
  const state = randomText(24);
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, hash: location.hash }));
  const params = new URLSearchParams({
    response_type: "code",
    client_id: clientId,
    redirect_uri: redirectUri,
    scope: (config.cognito.scopes || ["openid", "email", "profile"]).join(" "),
    state,
    code_challenge_method: "S256",
    code_challenge: await challengeOf(verifier),
  });
  location.assign(`${domain}/oauth2/authorize?${params}`);
}

async function tokenRequest(fields) {
  const response = await fetch(`${config.cognito.domain}/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ client_id: config.cognito.client_id, ...fields }),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error_description || data.error || `Sign-in failed (${response.status}).`);
  return data;
}

function keepTokens(data, refreshToken) {
  const tokens = {
    id_token: data.id_token,
    refresh_token: data.refresh_token || refreshToken,
    expires_at: Date.now() + (Number(data.expires_in) || 3600) * 1000,
  };
  sessionStorage.setItem(TOKENS, JSON.stringify(tokens));
  return tokens;
}

/** On return from the hosted UI: trade the code for tokens, put the page back as it was. */
export async function completeCognitoSignIn() {
  const params = new URLSearchParams(location.search);
  if (!params.has("code") && !params.has("error")) return false;
  const pending = JSON.parse(sessionStorage.getItem(PENDING) || "null");
  sessionStorage.removeItem(PENDING);
  const back = `${location.pathname}${pending?.hash || ""}`;
  history.replaceState(null, "", back);
  if (params.has("error")) throw new Error(params.get("error_description") || params.get("error"));
  if (!pending || pending.state !== params.get("state")) {
    throw new Error("The sign-in answer did not match the request this page made; sign in again.");
  }
  keepTokens(
    await tokenRequest({
      grant_type: "authorization_code",
      code: params.get("code"),
      redirect_uri: config.cognito.redirect_uri,
      code_verifier: pending.verifier,
    }),
  );
  return true;
}

function storedTokens() {
  return JSON.parse(sessionStorage.getItem(TOKENS) || "null");
}

export const hasCognitoSession = () => Boolean(storedTokens()?.id_token);

async function idToken() {
  let tokens = storedTokens();
  if (!tokens) return null;
  if (tokens.expires_at - Date.now() < 60_000 && tokens.refresh_token) {
    tokens = keepTokens(
      await tokenRequest({ grant_type: "refresh_token", refresh_token: tokens.refresh_token }),
      tokens.refresh_token,
    );
  }
  return tokens.id_token;
}

export function signOutOfCognito() {
  sessionStorage.removeItem(TOKENS);
  const params = new URLSearchParams({ client_id: config.cognito.client_id, logout_uri: config.cognito.redirect_uri });
  location.assign(`${config.cognito.domain}/logout?${params}`);
}

// ---- the header every API call carries -------------------------------------------------
export async function authorization() {
  if (isLocal()) {
    const user = localUser();
    return user ? `Bearer ${user}` : null;
  }
  const token = await idToken();
  return token ? `Bearer ${token}` : null;
}
