// The registry: pages with compliance and checklist editing, institutions, coverage by kind and municipality,
// spreadsheet import (progress bar, each row's errors next to the row) and export.
import { useEffect, useMemo, useState } from "preact/hooks";

import {
  CHECKLIST,
  ErrorBox,
  INSTITUTION_KINDS,
  Loading,
  PAGE_CATEGORIES,
  can,
  downloadBlob,
  formatNumber,
  html,
  label,
} from "../ui.js";

const TABS = [
  ["pages", "Страницы"],
  ["institutions", "Учреждения"],
  ["coverage", "Покрытие"],
  ["import", "Импорт и экспорт"],
];

function scope(ctx) {
  return ctx.session.role === "institution_admin"
    ? { institution_id: ctx.session.institution }
    : { region: ctx.region };
}

function useInstitutions(ctx) {
  const [state, setState] = useState({});
  useEffect(() => {
    const load =
      ctx.session.role === "institution_admin"
        ? ctx.api
            .call("getInstitution", { path: { institution_id: ctx.session.institution } })
            .then((i) => ({ items: [i], complete: true }))
        : ctx.api.all("listInstitutions", { query: { region: ctx.region, limit: 100 } });
    load.then((listing) => setState({ listing })).catch((error) => setState({ error }));
  }, [ctx.region]);
  return state;
}

function Checklist({ ctx, page, onSaved }) {
  const editable = can.editPages(ctx.session);
  const [draft, setDraft] = useState(() =>
    Object.fromEntries(Object.keys(CHECKLIST).map((key) => [key, page.checklist?.[key]?.value ?? null])),
  );
  const [state, setState] = useState({});
  const save = async (event) => {
    event.preventDefault();
    setState({ busy: true });
    try {
      const checklist = Object.fromEntries(Object.entries(draft).filter(([, value]) => value !== null));
      const updated = await ctx.api.call("updatePage", { path: { page_id: page.id }, body: { checklist } });
      setState({ saved: true });
      onSaved(updated.compliance_pct);
    } catch (error) {
      setState({ error });
    }
  };
  return html`<form class="checklist" onSubmit=${save} aria-label="Чек-лист страницы">
    <fieldset disabled=${!editable}>
      <legend>Чек-лист</legend>
      ${Object.entries(CHECKLIST).map(([key, text]) =>
        key === "pos_widgets"
          ? html`<label class="check"
              ><input
                type="number"
                min="0"
                max="2"
                value=${draft[key] ?? ""}
                onInput=${(e) => setDraft({ ...draft, [key]: e.target.value === "" ? null : Number(e.target.value) })}
              />
              ${text}</label
            >`
          : html`<label class="check"
              ><input
                type="checkbox"
                checked=${Boolean(draft[key])}
                onChange=${(e) => setDraft({ ...draft, [key]: e.target.checked })}
              />
              ${text}</label
            >`,
      )}
    </fieldset>
    ${editable && html`<button type="submit" data-write="checklist" disabled=${state.busy}>Сохранить чек-лист</button>`}
    ${state.saved && html`<span class="ok" role="status">Сохранено</span>`}
    <${ErrorBox} error=${state.error} />
  </form>`;
}

function PagesTab({ ctx, institutions }) {
  const [state, setState] = useState({});
  const [open, setOpen] = useState(null);
  const [compliance, setCompliance] = useState({});
  useEffect(() => {
    ctx.api
      .all("listPages", { query: { ...scope(ctx), limit: 100 } })
      .then((listing) => setState({ listing }))
      .catch((error) => setState({ error }));
  }, [ctx.region]);
  if (state.error) return html`<${ErrorBox} error=${state.error} title="Страницы не загружены" />`;
  if (!state.listing) return html`<${Loading} />`;
  const names = Object.fromEntries((institutions ?? []).map((i) => [i.id, i.short_name ?? i.name]));
  return html`<div class="table-wrap">
    <table data-testid="pages-table">
      <caption class="sr-only">Официальные страницы</caption>
      <thead>
        <tr>
          <th scope="col">Страница</th>
          <th scope="col">Учреждение</th>
          <th scope="col">Категория</th>
          <th scope="col" class="num">Подписчики</th>
          <th scope="col" class="num">Соответствие</th>
          <th scope="col">Госметка</th>
          <th scope="col">Знак качества</th>
          <th scope="col"><span class="sr-only">Чек-лист</span></th>
        </tr>
      </thead>
      <tbody>
        ${state.listing.items.map((p) => {
          const pct = compliance[p.id] ?? p.compliance_pct;
          return html`<tr>
              <td><a href=${p.url} target="_blank" rel="noopener noreferrer">${p.screen_name ?? p.url.replace(/^https?:\/\//, "")}</a></td>
              <td>${names[p.institution_id] ?? "—"}</td>
              <td>${label(PAGE_CATEGORIES, p.category)}</td>
              <td class="num">${formatNumber(p.subscribers)}</td>
              <td class="num">
                <meter min="0" max="100" low="50" high="75" optimum="100" value=${pct}></meter> ${pct}%
              </td>
              <td>${p.checklist?.gov_mark?.value ? "есть" : "нет"}</td>
              <td>${(p.quality_marks ?? []).join(", ") || "—"}</td>
              <td>
                <button type="button" class="link" aria-expanded=${open === p.id} onClick=${() => setOpen(open === p.id ? null : p.id)}>
                  Чек-лист
                </button>
              </td>
            </tr>
            ${open === p.id &&
            html`<tr class="expanded">
              <td colspan="8">
                <${Checklist} ctx=${ctx} page=${p} onSaved=${(v) => setCompliance({ ...compliance, [p.id]: v })} />
              </td>
            </tr>`}`;
        })}
      </tbody>
    </table>
  </div>`;
}

function InstitutionsTab({ institutions }) {
  return html`<div class="table-wrap">
    <table data-testid="institutions-table">
      <caption class="sr-only">Учреждения</caption>
      <thead>
        <tr>
          <th scope="col">Учреждение</th>
          <th scope="col">Тип</th>
          <th scope="col">Муниципалитет</th>
          <th scope="col">ИНН</th>
          <th scope="col" class="num">Страниц</th>
          <th scope="col">Статус</th>
        </tr>
      </thead>
      <tbody>
        ${institutions.map(
          (i) => html`<tr>
            <td>${i.short_name ?? i.name}</td>
            <td>${label(INSTITUTION_KINDS, i.kind)}</td>
            <td>${i.municipality ?? "—"}</td>
            <td>${i.inn}</td>
            <td class="num">${i.page_count}${i.page_count === 0 && i.no_page_reason ? " (освобождено)" : ""}</td>
            <td>${i.status === "active" ? "действует" : "в архиве"}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

function groupCoverage(institutions, key, labels) {
  const groups = {};
  for (const i of institutions) {
    if (i.status !== "active") continue;
    const name = labels ? label(labels, i[key]) : (i[key] ?? "не указан");
    const g = (groups[name] ??= { total: 0, withPages: 0 });
    g.total += 1;
    if (i.page_count > 0) g.withPages += 1;
  }
  return Object.entries(groups).sort((a, b) => b[1].total - a[1].total);
}

function CoverageTab({ ctx, institutions }) {
  const [state, setState] = useState({});
  useEffect(() => {
    if (!can.regionWide(ctx.session)) return;
    ctx.api
      .call("coverage", { query: { region: ctx.region } })
      .then((report) => setState({ report }))
      .catch((error) => setState({ error }));
  }, [ctx.region]);
  const byKind = useMemo(() => groupCoverage(institutions, "kind", INSTITUTION_KINDS), [institutions]);
  const byMunicipality = useMemo(() => groupCoverage(institutions, "municipality"), [institutions]);
  const region = state.report?.regions?.[0];
  const table = (title, rows) => html`<div class="table-wrap">
    <table>
      <caption>${title}</caption>
      <thead>
        <tr><th scope="col">Группа</th><th scope="col" class="num">Учреждений</th><th scope="col" class="num">Со страницей</th><th scope="col" class="num">Покрытие</th></tr>
      </thead>
      <tbody>
        ${rows.map(
          ([name, g]) => html`<tr>
            <td>${name}</td><td class="num">${g.total}</td><td class="num">${g.withPages}</td>
            <td class="num">${Math.round((100 * g.withPages) / g.total)}%</td>
          </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
  return html`<div>
    <${ErrorBox} error=${state.error} title="Сводка покрытия не загружена" />
    ${region &&
    html`<p data-testid="coverage-summary">
      ${region.region_name}: покрытие <strong>${formatNumber(region.total.coverage_pct, 1)}%</strong>
      (${region.total.institutions_with_pages} из ${region.total.institutions} учреждений, освобождено
      ${region.total.exempt}), страниц ${region.total.pages}, с госметкой ${formatNumber(region.total.gov_mark_share, 1)}%
    </p>`}
    <div class="two">${table("По типам учреждений", byKind)} ${table("По муниципалитетам", byMunicipality)}</div>
  </div>`;
}

// A small CSV reader (the export's format: ';' or ',' separated, quoted fields), to show the file's rows.
export function parseCsv(text) {
  const clean = text.replace(/^\uFEFF/, "");
  const firstLine = clean.split(/\r?\n/, 1)[0];
  const separator = (firstLine.match(/;/g) ?? []).length >= (firstLine.match(/,/g) ?? []).length ? ";" : ",";
  const rows = [];
  let row = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < clean.length; i += 1) {
    const c = clean[i];
    if (quoted) {
      if (c === '"' && clean[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === separator) {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && clean[i + 1] === "\n") i += 1;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += c;
  }
  if (field || row.length) rows.push([...row, field]);
  return rows;
}

function ImportTab({ ctx }) {
  const [file, setFile] = useState(null);
  const [dryRun, setDryRun] = useState(true);
  const [progress, setProgress] = useState(null);
  const [result, setResult] = useState({});
  const [exporting, setExporting] = useState(null);
  const allowed = can.importRegistry(ctx.session);

  const upload = async (event) => {
    event.preventDefault();
    setResult({});
    setProgress(0);
    const rows = /\.csv$/i.test(file.name) ? parseCsv(await file.text()) : null;
    try {
      const report = await ctx.api.upload("importRegistry", {
        query: { region: ctx.region, dry_run: dryRun },
        file,
        onProgress: setProgress,
      });
      setResult({ report, rows });
    } catch (error) {
      setResult({ error });
    } finally {
      setProgress(1);
    }
  };
  const download = async (format) => {
    setExporting({ format });
    try {
      const blob = await ctx.api.call("exportRegistry", { query: { region: ctx.region, format } });
      downloadBlob(blob, `registry-${ctx.region}.${format}`);
      setExporting(null);
    } catch (error) {
      setExporting({ error });
    }
  };

  const { report, rows } = result;
  const problems = {};
  const changes = {};
  for (const p of report?.errors ?? []) (problems[p.row] ??= []).push(p);
  for (const c of report?.changes ?? []) (changes[c.row] ??= []).push(c);
  const numbers = rows
    ? rows.slice(1).map((_, index) => index + 2)
    : [...new Set([...Object.keys(problems), ...Object.keys(changes)].map(Number))].sort((a, b) => a - b);
  const header = rows?.[0] ?? [];
  const shownColumns = header.slice(0, 4);

  return html`<div class="import">
    ${can.regionWide(ctx.session) &&
    html`<div class="card">
      <h2>Экспорт</h2>
      <p>Все учреждения региона, по строке на страницу — в формате, который принимает импорт.</p>
      <div class="buttons">
        <button type="button" onClick=${() => download("xlsx")}>Скачать XLSX</button>
        <button type="button" onClick=${() => download("csv")}>Скачать CSV</button>
      </div>
      <${ErrorBox} error=${exporting?.error} title="Экспорт не выполнен" />
    </div>`}
    ${allowed
      ? html`<form class="card" onSubmit=${upload} data-write="import">
          <h2>Импорт таблицы</h2>
          <label
            >Файл XLSX или CSV
            <input type="file" name="file" accept=".xlsx,.csv" required onChange=${(e) => setFile(e.target.files[0] ?? null)}
          /></label>
          <label class="check"
            ><input type="checkbox" name="dry_run" checked=${dryRun} onChange=${(e) => setDryRun(e.target.checked)} />
            Только проверить, ничего не менять</label
          >
          <button type="submit" class="primary" disabled=${!file || (progress !== null && progress < 1)}>
            ${dryRun ? "Проверить" : "Импортировать"}
          </button>
          ${progress !== null &&
          html`<label class="progress"
            >${progress < 1 ? "Загрузка и проверка…" : "Готово"}
            <progress max="1" value=${progress < 1 ? progress : 1} data-testid="import-progress"></progress
          ></label>`}
        </form>`
      : html`<p class="muted">Импорт доступен региональным администраторам.</p>`}
    <${ErrorBox} error=${result.error} title="Файл не принят" />
    ${report &&
    html`<section class="card" aria-labelledby="report-title" data-testid="import-report">
      <h2 id="report-title">${report.dry_run ? "Результат проверки" : "Результат импорта"}</h2>
      <p>
        ${[
          `Строк: ${report.rows}`,
          `создано ${report.created}`,
          `изменено ${report.updated}`,
          `без изменений ${report.unchanged}`,
          `пропущено ${report.skipped}`,
          `ошибок ${report.errors_total}`,
        ].join(" · ")}
        ${report.changes_total > report.changes.length ? ` (показаны первые ${report.changes.length} изменений)` : ""}
      </p>
      <div class="table-wrap">
        <table data-testid="import-rows">
          <thead>
            <tr>
              <th scope="col">Строка</th>
              ${shownColumns.map((c) => html`<th scope="col">${c}</th>`)}
              <th scope="col">Результат</th>
            </tr>
          </thead>
          <tbody>
            ${numbers.map((n) => {
              const cells = rows?.[n - 1] ?? [];
              const rowProblems = problems[n] ?? [];
              return html`<tr class=${rowProblems.length ? "row-error" : ""} data-row=${n}>
                <th scope="row">${n}</th>
                ${shownColumns.map((_, i) => html`<td>${cells[i] ?? ""}</td>`)}
                <td>
                  ${rowProblems.map(
                    (p) =>
                      html`<div class="error-inline" role="note">
                        ${p.column ? html`<strong>${p.column}</strong>: ` : null}${p.message}
                      </div>`,
                  )}
                  ${(changes[n] ?? []).map(
                    (c) =>
                      html`<div>
                        ${c.target === "page" ? "Страница" : "Учреждение"}:
                        ${c.action === "created" ? "будет создано" : "изменения"}
                        ${(c.fields ?? []).length ? html`<span class="muted"> ${c.fields.join("; ")}</span>` : null}
                      </div>`,
                  )}
                  ${!rowProblems.length && !(changes[n] ?? []).length ? html`<span class="muted">без изменений</span>` : null}
                </td>
              </tr>`;
            })}
          </tbody>
        </table>
      </div>
    </section>`}
  </div>`;
}

export function RegistryView({ ctx, tab }) {
  const { listing, error } = useInstitutions(ctx);
  const institutions = listing?.items ?? [];
  const tabs = TABS.filter(([id]) => can.regionWide(ctx.session) || !["coverage", "import"].includes(id));
  const active = tabs.some(([id]) => id === tab) ? tab : "pages";
  return html`<section aria-labelledby="registry-title">
    <h1 id="registry-title">Реестр госпабликов</h1>
    <nav class="tabs" aria-label="Разделы реестра">
      ${tabs.map(
        ([id, text]) =>
          html`<a href=${`#/registry/${id}`} aria-current=${active === id ? "page" : null}>${text}</a>`,
      )}
    </nav>
    <${ErrorBox} error=${error} title="Учреждения не загружены" />
    ${active === "pages" && html`<${PagesTab} ctx=${ctx} institutions=${institutions} />`}
    ${active === "institutions" && (listing ? html`<${InstitutionsTab} institutions=${institutions} />` : html`<${Loading} />`)}
    ${active === "coverage" && html`<${CoverageTab} ctx=${ctx} institutions=${institutions} />`}
    ${active === "import" && html`<${ImportTab} ctx=${ctx} />`}
  </section>`;
}
