// Sign-in. Cloud: OpenID Connect authorization code flow with PKCE (oidc-client-ts) against the issuer whose tokens
// the API verifies. Local stack: POST /_local/token mints a token for a chosen role (the cloud has no such route).

const STORAGE_KEY = "gospubliki.session";

export function decodeClaims(token) {
  const payload = token.split(".")[1] ?? "";
  const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(payload.length / 4) * 4, "="));
  return JSON.parse(decodeURIComponent(escape(json)));
}

function sessionOf(token, expiresAt) {
  const claims = decodeClaims(token);
  return {
    token,
    expiresAt: expiresAt ?? claims.exp,
    role: claims.role,
    region: claims.region ?? null,
    institution: claims.institution ?? null,
    subject: claims.preferred_username ?? claims.name ?? claims.sub,
  };
}

export function loadSession() {
  try {
    const session = JSON.parse(sessionStorage.getItem(STORAGE_KEY));
    if (session && session.expiresAt * 1000 > Date.now()) return session;
  } catch {
    /* nothing stored */
  }
  return null;
}

function store(session) {
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
  return session;
}

export async function localSignIn(base, { role, region, institution }) {
  const response = await fetch(`${base}/_local/token`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ role, region: region || null, institution: institution || null }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = Array.isArray(body.detail) ? body.detail.map((item) => item.msg ?? item.message).join("; ") : "";
    throw new Error(detail || body.message || `Вход не выполнен (HTTP ${response.status})`);
  }
  return store(sessionOf(body.access_token, body.expires_at));
}

// A short-lived read-only token, to list the region's institutions on the local sign-in form.
export async function localProbeToken(base, region) {
  const response = await fetch(`${base}/_local/token`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ role: "portal", region }),
  });
  if (!response.ok) return null;
  return (await response.json()).access_token;
}

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`${src} did not load`));
    document.head.append(script);
  });
}

async function userManager(oidcConfig) {
  if (!window.oidc) await loadScript(new URL("../vendor/oidc-client-ts.min.js", import.meta.url).href);
  const here = new URL(".", window.location.href).href;
  return new window.oidc.UserManager({
    authority: oidcConfig.authority,
    client_id: oidcConfig.client_id,
    redirect_uri: oidcConfig.redirect_uri ?? here,
    post_logout_redirect_uri: oidcConfig.post_logout_redirect_uri ?? here,
    scope: oidcConfig.scope ?? "openid profile",
    response_type: "code",
    userStore: new window.oidc.WebStorageStateStore({ store: window.sessionStorage }),
    automaticSilentRenew: false,
  });
}

export async function cloudSignIn(oidcConfig) {
  const manager = await userManager(oidcConfig);
  await manager.signinRedirect();
}

// After the issuer redirects back with ?code=…&state=…: exchange the code (PKCE verifier kept by oidc-client-ts).
export async function completeCloudSignIn(oidcConfig) {
  const params = new URLSearchParams(window.location.search);
  if (!params.has("code") || !params.has("state")) return null;
  const manager = await userManager(oidcConfig);
  const user = await manager.signinRedirectCallback();
  window.history.replaceState(null, "", window.location.pathname + window.location.hash);
  const token = oidcConfig.use_id_token ? user.id_token : user.access_token;
  return store(sessionOf(token, user.expires_at));
}

export async function signOut(config) {
  sessionStorage.removeItem(STORAGE_KEY);
  if (config.mode === "oidc") {
    const manager = await userManager(config.oidc);
    await manager.removeUser();
  }
}
