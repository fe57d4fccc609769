// Sign-in: the OIDC issuer in the cloud; on the local stack a form picking a role, region and institution.
import { useEffect, useState } from "preact/hooks";

import { cloudSignIn, localProbeToken, localSignIn } from "../auth.js";
import { ROLES, html } from "../ui.js";

async function probe(api, base, region, call) {
  const token = await localProbeToken(base, region);
  if (!token) return null;
  return call(api.withToken(token)).catch(() => null);
}

function LocalForm({ api, base, onSignedIn }) {
  const [role, setRole] = useState("operator");
  const [region, setRegion] = useState("54");
  const [institution, setInstitution] = useState("");
  const [regions, setRegions] = useState([]);
  const [institutions, setInstitutions] = useState([]);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    probe(api, base, "54", (reader) => reader.call("listRegions")).then((list) => setRegions(list ?? []));
  }, []);
  useEffect(() => {
    if (role !== "institution_admin" || !/^\d{2}$/.test(region)) return;
    probe(api, base, region, (reader) => reader.call("listInstitutions", { query: { region, limit: 100 } })).then((listing) => {
      const items = listing?.items ?? [];
      setInstitutions(items);
      setInstitution(items[0]?.id ?? "");
    });
  }, [role, region]);

  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await localSignIn(base, { role, region: role === "federal_admin" ? null : region, institution }));
    } catch (e) {
      setError(e.message);
    } finally {
      setBusy(false);
    }
  };

  return html`<form class="card signin" onSubmit=${submit} aria-labelledby="signin-title">
    <h1 id="signin-title">Вход в консоль</h1>
    <p class="muted">Локальный стенд: вход без пароля под любой ролью. В облаке вход выполняется через региональный SSO (OpenID Connect).</p>
    <label
      >Роль
      <select name="role" value=${role} onChange=${(e) => setRole(e.target.value)}>
        ${Object.entries(ROLES).map(([id, text]) => html`<option value=${id}>${text}</option>`)}
      </select></label
    >
    ${role !== "federal_admin" &&
    html`<label
      >Регион
      <select name="region" value=${region} onChange=${(e) => setRegion(e.target.value)}>
        ${regions.length === 0 && html`<option value="54">54 · Новосибирская область</option>`}
        ${regions.map((r) => html`<option value=${r.code}>${r.code} · ${r.name}</option>`)}
      </select></label
    >`}
    ${role === "institution_admin" &&
    html`<label
      >Учреждение
      <select name="institution" value=${institution} onChange=${(e) => setInstitution(e.target.value)} required>
        ${institutions.map((i) => html`<option value=${i.id}>${i.short_name ?? i.name}</option>`)}
      </select></label
    >`}
    ${error && html`<div class="error" role="alert">${error}</div>`}
    <button type="submit" class="primary" disabled=${busy}>Войти</button>
  </form>`;
}

export function SignInView({ api, config, error, onSignedIn }) {
  if (config.mode === "oidc") {
    return html`<div class="card signin">
      <h1>Вход в консоль</h1>
      <p>Вход выполняется через единую учётную запись вашего региона (OpenID Connect).</p>
      ${error && html`<div class="error" role="alert">Вход не выполнен: ${error.message}</div>`}
      <button type="button" class="primary" onClick=${() => cloudSignIn(config.oidc)}>Войти</button>
    </div>`;
  }
  return html`<${LocalForm} api=${api} base=${config.api_base ?? ""} onSignedIn=${onSignedIn} />`;
}
