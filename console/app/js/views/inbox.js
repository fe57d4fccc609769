// The inbox: the appeals of the user's scope, most urgent first, filters with counts, refreshed in the background.
import { useEffect, useMemo, useState } from "preact/hooks";

import {
  ErrorBox,
  KINDS,
  Loading,
  PRIORITIES,
  RUBRICS,
  SOURCES,
  STATUSES,
  countdown,
  formatDateTime,
  html,
  isOpen,
  isOverdue,
  label,
} from "../ui.js";

const REFRESH_MS = 10000;
const FILTERS = [
  ["status", "Статус", STATUSES],
  ["kind", "Вид", KINDS],
  ["rubric", "Рубрика", RUBRICS],
  ["priority", "Приоритет", PRIORITIES],
];

export function urgency(a, b, now = Date.now()) {
  const rank = (x) => [
    isOverdue(x, now) ? 0 : 1,
    x.priority === "urgent" && isOpen(x) ? 0 : 1,
    isOpen(x) ? 0 : 1,
    x.due_at ? new Date(x.due_at).getTime() : Number.MAX_SAFE_INTEGER,
    -new Date(x.received_at).getTime(),
  ];
  const [ra, rb] = [rank(a), rank(b)];
  for (let i = 0; i < ra.length; i += 1) if (ra[i] !== rb[i]) return ra[i] - rb[i];
  return 0;
}

function matches(appeal, filters, now) {
  for (const [name] of FILTERS) if (filters[name] && appeal[name] !== filters[name]) return false;
  if (filters.overdue && !isOverdue(appeal, now)) return false;
  if (filters.institution && appeal.institution_id !== filters.institution) return false;
  if (filters.page && appeal.page_id !== filters.page) return false;
  return true;
}

function scopeQuery(ctx) {
  const { session, region } = ctx;
  if (session.role === "institution_admin") return { institution_id: session.institution, limit: 100 };
  return { region, limit: 100 };
}

export function InboxView({ ctx }) {
  const { api, timeZone } = ctx;
  const [appeals, setAppeals] = useState(null);
  const [complete, setComplete] = useState(true);
  const [error, setError] = useState(null);
  const [filters, setFilters] = useState({});
  const [names, setNames] = useState({ institutions: {}, pages: {} });
  const [seen, setSeen] = useState(null);
  const [now, setNow] = useState(Date.now());

  useEffect(() => {
    let stopped = false;
    const load = async () => {
      try {
        const { items, complete: whole } = await api.all("listAppeals", { query: scopeQuery(ctx), maxPages: 3 });
        if (stopped) return;
        setAppeals(items);
        setComplete(whole);
        setError(null);
        setSeen((before) => before ?? new Set(items.map((a) => a.id)));
      } catch (e) {
        if (!stopped) setError(e);
      }
      setNow(Date.now());
    };
    load();
    const timer = setInterval(load, REFRESH_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [ctx.region]);

  useEffect(() => {
    const query = ctx.session.role === "institution_admin" ? { institution_id: ctx.session.institution } : { region: ctx.region };
    Promise.allSettled([
      ctx.session.role === "institution_admin"
        ? api.call("getInstitution", { path: { institution_id: ctx.session.institution } }).then((i) => ({ items: [i] }))
        : api.all("listInstitutions", { query: { region: ctx.region, limit: 100 } }),
      api.all("listPages", { query: { ...query, limit: 100 } }),
    ]).then(([institutions, pages]) =>
      setNames({
        institutions: Object.fromEntries(
          (institutions.value?.items ?? []).map((i) => [i.id, i.short_name ?? i.name]),
        ),
        pages: Object.fromEntries((pages.value?.items ?? []).map((p) => [p.id, p.screen_name ?? p.url.replace(/^https?:\/\//, "")])),
      }),
    );
  }, [ctx.region]);

  const counts = useMemo(() => {
    const result = { overdue: 0 };
    for (const a of appeals ?? []) {
      for (const [name] of FILTERS) result[`${name}:${a[name]}`] = (result[`${name}:${a[name]}`] ?? 0) + 1;
      if (isOverdue(a, now)) result.overdue += 1;
    }
    return result;
  }, [appeals, now]);

  if (error && !appeals) return html`<h1>Обращения</h1><${ErrorBox} error=${error} title="Обращения не загружены" />`;
  if (!appeals) return html`<h1>Обращения</h1><${Loading} />`;

  const shown = appeals.filter((a) => matches(a, filters, now)).sort((a, b) => urgency(a, b, now));
  const set = (name, value) => setFilters({ ...filters, [name]: value || undefined });
  const options = (values) => Object.entries(values);

  return html`<section aria-labelledby="inbox-title">
    <div class="title-row">
      <h1 id="inbox-title">Обращения</h1>
      <span class="muted" aria-live="polite" data-testid="inbox-total"
        >Показано ${shown.length} из ${appeals.length}${complete ? "" : " (последние)"} · время региона: ${timeZone}</span
      >
    </div>
    <${ErrorBox} error=${error} title="Не удалось обновить список" />
    <form class="filters" onSubmit=${(e) => e.preventDefault()} aria-label="Фильтры">
      ${FILTERS.map(
        ([name, title, values]) =>
          html`<label
            >${title}
            <select name=${name} value=${filters[name] ?? ""} onChange=${(e) => set(name, e.target.value)}>
              <option value="">Все</option>
              ${options(values).map(
                ([id, text]) => html`<option value=${id}>${text} (${counts[`${name}:${id}`] ?? 0})</option>`,
              )}
            </select></label
          >`,
      )}
      <label
        >Учреждение
        <select name="institution" value=${filters.institution ?? ""} onChange=${(e) => set("institution", e.target.value)}>
          <option value="">Все</option>
          ${Object.entries(names.institutions).map(([id, text]) => html`<option value=${id}>${text}</option>`)}
        </select></label
      >
      <label
        >Страница
        <select name="page" value=${filters.page ?? ""} onChange=${(e) => set("page", e.target.value)}>
          <option value="">Все</option>
          ${Object.entries(names.pages).map(([id, text]) => html`<option value=${id}>${text}</option>`)}
        </select></label
      >
      <label class="check"
        ><input
          type="checkbox"
          name="overdue"
          checked=${Boolean(filters.overdue)}
          onChange=${(e) => set("overdue", e.target.checked)}
        />
        Просроченные (${counts.overdue})</label
      >
    </form>
    ${shown.length === 0
      ? html`<p class="muted">Нет обращений по выбранным фильтрам.</p>`
      : html`<ul class="appeals" data-testid="appeal-list">
          ${shown.map((a) => {
            const overdue = isOverdue(a, now);
            const fresh = seen && !seen.has(a.id);
            return html`<li class=${`appeal ${overdue ? "overdue" : ""} ${a.priority === "urgent" ? "urgent" : ""}`}>
              <a href=${`#/appeals/${a.id}`} data-appeal-id=${a.id}>
                <span class="badges">
                  <span class=${`badge status-${a.status}`}>${label(STATUSES, a.status)}</span>
                  ${a.priority === "urgent" && html`<span class="badge urgent">Срочно</span>`}
                  ${overdue && html`<span class="badge overdue">Просрочено</span>`}
                  ${fresh && html`<span class="badge fresh">Новое в списке</span>`}
                  <span class="badge">${label(KINDS, a.kind)}</span>
                  ${a.rubric && html`<span class="badge">${label(RUBRICS, a.rubric)}</span>`}
                </span>
                <span class="text">${a.deleted ? "(удалено автором)" : a.text}</span>
                <span class="meta">
                  ${[
                    label(SOURCES, a.source?.type),
                    names.pages[a.page_id] ?? "страница",
                    names.institutions[a.institution_id] ?? "учреждение",
                    `получено ${formatDateTime(a.received_at, timeZone)}`,
                    a.due_at && isOpen(a) ? `срок ${formatDateTime(a.due_at, timeZone)} (${countdown(a.due_at, now)})` : "",
                  ]
                    .filter(Boolean)
                    .join(" · ")}
                </span>
              </a>
            </li>`;
          })}
        </ul>`}
  </section>`;
}
