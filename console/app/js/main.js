// The console: configuration, sign-in, the header with navigation, and a hash router over the screens.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";

import { Api } from "./api.js";
import { completeCloudSignIn, loadSession, signOut } from "./auth.js";
import { ROLES, can, html } from "./ui.js";
import { AppealView } from "./views/appeal.js";
import { DashboardView } from "./views/dashboard.js";
import { InboxView } from "./views/inbox.js";
import { RegistryView } from "./views/registry.js";
import { SignInView } from "./views/signin.js";

function useHash() {
  const [hash, setHash] = useState(window.location.hash || "#/");
  useEffect(() => {
    const update = () => setHash(window.location.hash || "#/");
    window.addEventListener("hashchange", update);
    return () => window.removeEventListener("hashchange", update);
  }, []);
  return hash;
}

function route(hash, session) {
  const [path, search = ""] = hash.slice(1).split("?");
  const parts = path.split("/").filter(Boolean);
  const params = Object.fromEntries(new URLSearchParams(search));
  const home = can.readAppeals(session) ? "inbox" : "registry";
  return { screen: parts[0] ?? home, id: parts[1] ?? null, params };
}

function Nav({ session, screen }) {
  const links = [
    can.readAppeals(session) && ["inbox", "Обращения"],
    ["registry", "Реестр"],
    ["dashboard", "Показатели"],
  ].filter(Boolean);
  return html`<nav aria-label="Разделы">
    <ul>
      ${links.map(
        ([id, text]) =>
          html`<li>
            <a href=${`#/${id}`} aria-current=${screen === id || (screen === "appeals" && id === "inbox") ? "page" : null}
              >${text}</a
            >
          </li>`,
      )}
    </ul>
  </nav>`;
}

function Header({ ctx, screen, onRegion, onSignOut }) {
  const { session, regions, region } = ctx;
  return html`<header class="topbar">
    <a class="brand" href="#/">Госпаблики · консоль ЦУР</a>
    <${Nav} session=${session} screen=${screen} />
    <div class="who">
      ${session.role === "federal_admin"
        ? html`<label class="inline"
            >Регион
            <select value=${region ?? ""} onChange=${(e) => onRegion(e.target.value)} data-testid="region-picker">
              ${regions.map((r) => html`<option value=${r.code}>${r.code} · ${r.name}</option>`)}
            </select></label
          >`
        : html`<span data-testid="who-region">${regions.find((r) => r.code === region)?.name ?? region}</span>`}
      <span class="role" data-testid="who-role">${ROLES[session.role] ?? session.role}</span>
      <button type="button" class="link" onClick=${onSignOut}>Выйти</button>
    </div>
  </header>`;
}

function Console({ config, api, session, onSignOut }) {
  const hash = useHash();
  const [regions, setRegions] = useState([]);
  const [region, setRegion] = useState(session.region ?? sessionStorage.getItem("gospubliki.region") ?? "54");
  useEffect(() => {
    api
      .call("listRegions")
      .then(setRegions)
      .catch(() => setRegions([]));
  }, [api]);
  const chooseRegion = (code) => {
    sessionStorage.setItem("gospubliki.region", code);
    setRegion(code);
  };
  const timeZone = regions.find((r) => r.code === region)?.timezone ?? "Europe/Moscow";
  const ctx = { api, config, session, regions, region, timeZone };
  const { screen, id, params } = route(hash, session);
  let body;
  if (screen === "inbox") body = html`<${InboxView} ctx=${ctx} />`;
  else if (screen === "appeals" && id) body = html`<${AppealView} ctx=${ctx} id=${id} key=${id} />`;
  else if (screen === "registry") body = html`<${RegistryView} ctx=${ctx} tab=${id ?? "pages"} params=${params} />`;
  else if (screen === "dashboard") body = html`<${DashboardView} ctx=${ctx} key=${region} />`;
  else body = html`<p>Раздел не найден. <a href="#/">На главную</a></p>`;
  return html`<a class="skip" href="#main">К содержимому</a>
    <${Header} ctx=${ctx} screen=${screen} onRegion=${chooseRegion} onSignOut=${onSignOut} />
    <main id="main" tabindex="-1">${body}</main>`;
}

function App({ config, contract }) {
  const [session, setSession] = useState(loadSession);
  const [api] = useState(
    () =>
      new Api({
        base: config.api_base ?? "",
        contract,
        getToken: () => loadSession()?.token,
        onUnauthorized: () => setSession(null),
      }),
  );
  const [ready, setReady] = useState(false);
  const [error, setError] = useState(null);
  useEffect(() => {
    (async () => {
      await api.discover();
      if (config.mode === "oidc" && !session) {
        try {
          const completed = await completeCloudSignIn(config.oidc);
          if (completed) setSession(completed);
        } catch (e) {
          setError(e);
        }
      }
      setReady(true);
    })();
  }, []);
  if (!ready) return html`<p class="muted boot">Загрузка…</p>`;
  if (!session) return html`<${SignInView} api=${api} config=${config} error=${error} onSignedIn=${setSession} />`;
  const out = async () => {
    await signOut(config);
    setSession(null);
    window.location.hash = "#/";
  };
  return html`<${Console} config=${config} api=${api} session=${session} onSignOut=${out} key=${session.token} />`;
}

async function boot() {
  const [config, contract] = await Promise.all([
    fetch("config.json", { cache: "no-store" }).then((r) => (r.ok ? r.json() : { mode: "local", api_base: "" })),
    fetch(new URL("./contract.json", import.meta.url)).then((r) => r.json()),
  ]);
  const root = document.getElementById("app");
  root.textContent = "";
  render(html`<${App} config=${config} contract=${contract} />`, root);
}

boot();
