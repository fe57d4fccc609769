// The region dashboard: coverage and compliance from the registry; activity per day, appeals KPIs (new vs resolved,
// share within SLA, median response, answer quality), top rubrics, subscribers, the score and the breakdown by
// municipality and institution kind from the metrics rollups; page and region ratings with their breakdowns, the
// quality marks and the weekly report download.
import { useEffect, useRef, useState } from "preact/hooks";

import {
  ErrorBox,
  INSTITUTION_KINDS,
  Kpi,
  Loading,
  NotYet,
  RUBRICS,
  can,
  downloadBlob,
  formatNumber,
  html,
  label,
} from "../ui.js";

const DAYS = 30;
const SERIES = [
  ["comment", "Комментарии", "#1f6feb"],
  ["message", "Сообщения", "#8250df"],
  ["post", "Публикации", "#2da44e"],
  ["join", "Подписки", "#bf8700"],
  ["leave", "Отписки", "#cf222e"],
];
const PERIODS = { week: "Неделя", month: "Месяц", quarter: "Квартал" };
const SCORE_PARTS = {
  compliance: "Соответствие требованиям",
  posting: "Регулярность публикаций",
  answering: "Ответы гражданам",
  audience: "Аудитория",
  coverage: "Охват учреждений",
  page_score: "Средний балл страниц",
  reach: "Охват аудитории",
};
const PAGE_PARTS = ["compliance", "posting", "answering", "audience"];
const REGION_PARTS = ["coverage", "page_score", "answering", "posting", "reach"];

function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

function percent(share) {
  return share == null ? "—" : `${formatNumber(share * 100, 1)}%`;
}

function ChartCanvas({ config, label: title }) {
  const canvas = useRef(null);
  useEffect(() => {
    if (!window.Chart || !canvas.current) return undefined;
    const chart = new window.Chart(canvas.current, config);
    return () => chart.destroy();
  }, [JSON.stringify(config.data)]);
  if (!window.Chart) return html`<p class="muted">Графики недоступны (библиотека не загружена).</p>`;
  return html`<div class="chart"><canvas ref=${canvas} role="img" aria-label=${title}></canvas></div>`;
}

// Calls an operation and keeps {data, error, missing}: missing when the route is not deployed yet.
function useOptional(ctx, id, args, enabled = true, key = "") {
  const [state, setState] = useState({ loading: enabled });
  useEffect(() => {
    if (!enabled || ctx.api.has(id) === false) {
      setState({ missing: ctx.api.has(id) === false });
      return;
    }
    setState({ loading: true });
    ctx.api
      .call(id, args)
      .then((data) => setState({ data }))
      .catch((error) => setState(error.routeMissing ? { missing: true } : { error }));
  }, [ctx.region, key]);
  return state;
}

// Loading, error, missing route or the content.
function Section({ state, what, children }) {
  if (state.missing) return html`<${NotYet} what=${what} />`;
  if (state.error) return html`<${ErrorBox} error=${state.error} />`;
  if (state.loading || !state.data) return html`<${Loading} />`;
  return children();
}

const barOptions = (extra = {}) => ({
  responsive: true,
  maintainAspectRatio: false,
  animation: false,
  plugins: { legend: { display: false } },
  scales: { y: { ticks: { precision: 0 } } },
  ...extra,
});

function ScoreTable({ score, parts }) {
  if (!score) return html`<p class="muted">Оценка появится после первого пересчёта.</p>`;
  return html`<div class="table-wrap">
    <table>
      <thead><tr><th scope="col">Составляющая</th><th scope="col">Баллы</th><th scope="col">Вес</th><th scope="col">Доля</th></tr></thead>
      <tbody>
        ${parts
          .filter((name) => score.parts[name])
          .map((name) => {
            const part = score.parts[name];
            return html`<tr>
              <td>${SCORE_PARTS[name] ?? name}</td>
              <td>${formatNumber(part.points, 1)}</td>
              <td>${formatNumber(part.weight, 1)}</td>
              <td>${percent(part.ratio)}</td>
            </tr>`;
          })}
      </tbody>
      <tfoot><tr><th scope="row">Итого</th><td colspan="3"><strong>${formatNumber(score.total, 1)}</strong> из 100</td></tr></tfoot>
    </table>
  </div>`;
}

function BreakdownTable({ rows, title, names, testid, counted = false }) {
  if (!rows?.length) return html`<p class="muted">Нет данных за период.</p>`;
  return html`<div class="table-wrap" data-testid=${testid}>
    <table>
      <thead>
        <tr>
          <th scope="col">${title}</th>
          ${counted && html`<th scope="col">Учреждений</th>`}
          <th scope="col">Новых обращений</th>
          <th scope="col">Отвечено</th>
          <th scope="col">Просрочено</th>
          <th scope="col">В срок</th>
          <th scope="col">Публикаций</th>
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          (row) => html`<tr data-key=${row.key}>
            <th scope="row">${names(row)}</th>
            ${counted && html`<td>${formatNumber(row.institutions)}</td>`}
            <td>${formatNumber(row.kpis.appeals_new)}</td>
            <td>${formatNumber(row.kpis.appeals_answered)}</td>
            <td>${formatNumber(row.kpis.appeals_overdue)}</td>
            <td>${percent(row.kpis.share_answered_in_sla)}</td>
            <td>${formatNumber(row.kpis.posts)}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

function RatingTable({ data, parts, testid, caption }) {
  const items = data?.items ?? [];
  if (!items.length) return html`<p class="muted">Нет данных рейтинга за период.</p>`;
  return html`<div class="table-wrap" data-testid=${testid}>
    <table>
      <caption class="muted">${caption} · ${data.label}</caption>
      <thead>
        <tr>
          <th scope="col">Место</th>
          <th scope="col">${data.level === "region" ? "Регион" : "Страница"}</th>
          <th scope="col">Балл</th>
          ${parts.map((name) => html`<th scope="col">${SCORE_PARTS[name]}</th>`)}
        </tr>
      </thead>
      <tbody>
        ${items.map(
          (item) => html`<tr>
            <td>${item.rank}</td>
            <td>${item.id}</td>
            <td><strong>${formatNumber(item.score, 1)}</strong></td>
            ${parts.map((name) => html`<td>${formatNumber(item.breakdown?.parts?.[name]?.points, 1)}</td>`)}
          </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

export function DashboardView({ ctx }) {
  const { api, region, session } = ctx;
  const regionWide = can.regionWide(session);
  const readsAppeals = can.readAppeals(session);
  const [period, setPeriod] = useState("week");
  const to = new Date();
  const from = new Date(to.getTime() - (DAYS - 1) * 86400000);
  const range = { from: isoDay(from), to: isoDay(to) };
  const year = to.getFullYear();
  const activity = useOptional(ctx, "regionActivity", { path: { region_code: region }, query: range }, regionWide);
  const coverage = useOptional(ctx, "coverage", { query: { region } }, regionWide);
  const dashboard = useOptional(
    ctx,
    "regionDashboard",
    { path: { region_code: region }, query: { period } },
    regionWide,
    period,
  );
  const weekly = useOptional(ctx, "weeklySummary", { query: { region, format: "json" } }, regionWide && readsAppeals);
  const regionRating = useOptional(ctx, "ratings", { query: { level: "region", period } }, regionWide, period);
  const pageRating = useOptional(ctx, "ratings", { query: { level: "page", region, period } }, regionWide, period);
  const marks = useOptional(ctx, "qualityMarks", { query: { region, year } }, regionWide);
  const triage = useOptional(
    ctx,
    "triageStats",
    { query: { region, ...range } },
    regionWide && readsAppeals && api.has("regionDashboard") === false,
  );
  const [report, setReport] = useState(null);

  if (!regionWide) {
    return html`<h1>Показатели</h1>
      <p class="notice">Показатели региона доступны ЦУР, региональным администраторам и порталам. Откройте реестр,
      чтобы увидеть страницы своего учреждения.</p>`;
  }
  const stats = coverage.data?.regions?.[0]?.total;
  const board = dashboard.data;
  const kpis = board?.kpis;
  const byDay = Object.fromEntries((activity.data?.days ?? []).map((d) => [d.day, d.counts ?? {}]));
  const days = Array.from({ length: DAYS }, (_, i) => {
    const day = isoDay(new Date(from.getTime() + i * 86400000));
    return { day, counts: byDay[day] ?? {} };
  });
  const totals = activity.data?.totals ?? {};
  const activityChart = {
    type: "line",
    data: {
      labels: days.map((d) => d.day.slice(5)),
      datasets: SERIES.map(([key, text, color]) => ({
        label: text,
        data: days.map((d) => d.counts[key] ?? 0),
        borderColor: color,
        backgroundColor: color,
        tension: 0.2,
      })),
    },
    options: { responsive: true, maintainAspectRatio: false, animation: false, scales: { y: { ticks: { precision: 0 } } } },
  };
  const weekDays = weekly.data?.days ?? [];
  const appealsChart = {
    type: "bar",
    data: {
      labels: weekDays.map((d) => d.day.slice(5)),
      datasets: [
        { label: "Новые", data: weekDays.map((d) => d.appeals_new), backgroundColor: "#1f6feb" },
        { label: "Отвечено", data: weekDays.map((d) => d.appeals_answered), backgroundColor: "#2da44e" },
        { label: "Решено (закрыто)", data: weekDays.map((d) => d.appeals_closed), backgroundColor: "#8250df" },
      ],
    },
    options: barOptions({ plugins: { legend: { display: true } } }),
  };
  const compliance = stats?.compliance ?? {};
  const buckets = ["0-24", "25-49", "50-74", "75-99", "100"];
  const complianceChart = {
    type: "bar",
    data: {
      labels: buckets.map((b) => `${b}%`),
      datasets: [{ label: "Страниц", data: buckets.map((b) => compliance[b] ?? 0), backgroundColor: "#1f6feb" }],
    },
    options: barOptions(),
  };
  const rubrics = kpis
    ? kpis.top_rubrics.slice(0, 5)
    : Object.entries(triage.data?.rubric ?? {})
        .map(([key, counts]) => [key, (counts.assigned ?? 0) + (counts.corrected_to ?? 0) - (counts.corrected_from ?? 0)])
        .filter(([, n]) => n > 0)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 5);
  const rubricChart = {
    type: "bar",
    data: {
      labels: rubrics.map(([key]) => label(RUBRICS, key)),
      datasets: [{ label: "Обращений", data: rubrics.map(([, n]) => n), backgroundColor: "#8250df" }],
    },
    options: barOptions({ indexAxis: "y", scales: { x: { ticks: { precision: 0 } } } }),
  };
  const download = async (format) => {
    setReport({ busy: true });
    try {
      const blob = await api.call("weeklyReport", { query: { region, format } });
      downloadBlob(blob, `weekly-report-${region}.${format}`);
      setReport(null);
    } catch (error) {
      setReport({ error });
    }
  };
  const growth = board ? `${board.subscriber_growth >= 0 ? "+" : ""}${formatNumber(board.subscriber_growth)} за период` : null;
  return html`<section aria-labelledby="dashboard-title">
    <div class="title-row">
      <h1 id="dashboard-title">Показатели региона</h1>
      <label>
        Период
        <select name="period" value=${period} onChange=${(e) => setPeriod(e.target.value)}>
          ${Object.entries(PERIODS).map(([key, text]) => html`<option value=${key}>${text}</option>`)}
        </select>
      </label>
      ${board && html`<span class="muted" data-testid="period-label">${board.label}: ${board.first_day} — ${board.last_day}</span>`}
      ${readsAppeals &&
      api.has("weeklyReport") !== false &&
      html`<button type="button" onClick=${() => download("xlsx")} disabled=${report?.busy}>Недельный отчёт (XLSX)</button>
        <button type="button" onClick=${() => download("csv")} disabled=${report?.busy}>CSV</button>`}
    </div>
    ${report?.error &&
    (report.error.routeMissing
      ? html`<${NotYet} what="Недельный отчёт" />`
      : html`<${ErrorBox} error=${report.error} title="Отчёт не получен" />`)}
    <div class="kpis" data-testid="kpis">
      <${Kpi} id="coverage" title="Покрытие учреждений" value=${stats ? `${formatNumber(stats.coverage_pct, 1)}%` : "—"} />
      <${Kpi} id="pages" title="Страниц" value=${stats ? formatNumber(stats.pages) : "—"} />
      <${Kpi} id="gov_mark" title="С госметкой" value=${stats ? `${formatNumber(stats.gov_mark_share, 1)}%` : "—"} />
      <${Kpi} id="subscribers" title="Подписчиков" value=${board ? formatNumber(board.subscribers) : "—"} hint=${growth} />
      <${Kpi} id="comments" title="Комментариев за ${DAYS} дней" value=${formatNumber(totals.comment ?? 0)} />
      <${Kpi} id="messages" title="Сообщений за ${DAYS} дней" value=${formatNumber(totals.message ?? 0)} />
    </div>
    <${ErrorBox} error=${coverage.error} title="Покрытие не загружено" />
    <div class="card" data-testid="appeals-kpis">
      <h2>Обращения: новые, решённые, в срок</h2>
      <${Section} state=${dashboard} what="Сводка по обращениям и срокам">
        ${() => html`<div class="kpis">
            <${Kpi} id="appeals_new" title="Новых обращений" value=${formatNumber(kpis.appeals_new)} />
            <${Kpi} id="appeals_answered" title="Отвечено" value=${formatNumber(kpis.appeals_answered)} />
            <${Kpi} id="appeals_closed" title="Решено (закрыто)" value=${formatNumber(kpis.appeals_closed)} />
            <${Kpi} id="appeals_overdue" title="Просрочено" value=${formatNumber(kpis.appeals_overdue)} />
            <${Kpi} id="share_in_sla" title="Отвечено в срок" value=${percent(kpis.share_answered_in_sla)} />
            <${Kpi}
              id="median_response"
              title="Медиана ответа, раб. мин"
              value=${kpis.median_response_minutes == null ? "—" : `≤ ${formatNumber(kpis.median_response_minutes)}`}
            />
            <${Kpi} id="answer_quality" title="Качество ответов" value=${formatNumber(kpis.answer_quality, 1)} />
            <${Kpi} id="posts" title="Публикаций" value=${formatNumber(kpis.posts)} />
          </div>`}
      <//>
    </div>
    <div class="two">
      ${readsAppeals &&
      html`<div class="card">
        <h2>Обращения по дням недели</h2>
        <${Section} state=${weekly} what="Обращения по дням">
          ${() => html`<${ChartCanvas} config=${appealsChart} label="Обращения по дням: новые и решённые" />`}
        <//>
      </div>`}
      <div class="card">
        <h2>Активность по дням</h2>
        <${Section} state=${activity} what="Активность">
          ${() => html`<${ChartCanvas} config=${activityChart} label="Активность по дням" />`}
        <//>
      </div>
      <div class="card">
        <h2>Топ рубрик обращений</h2>
        ${rubrics.length
          ? html`<${ChartCanvas} config=${rubricChart} label="Топ рубрик" />`
          : html`<p class="muted">Нет обращений за период.</p>`}
      </div>
      <div class="card">
        <h2>Соответствие страниц требованиям</h2>
        <${ChartCanvas} config=${complianceChart} label="Страницы по проценту соответствия" />
      </div>
      <div class="card">
        <h2>Оценка региона</h2>
        <${Section} state=${dashboard} what="Оценка региона">
          ${() => html`<${ScoreTable} score=${board.score} parts=${REGION_PARTS} />`}
        <//>
      </div>
      <div class="card">
        <h2>Знак качества ${year}</h2>
        <${Section} state=${marks} what="Знаки качества">
          ${() =>
            marks.data.items.length
              ? html`<ul data-testid="quality-marks">
                  ${marks.data.items.map((item) => html`<li>${item.page_id}: ${formatNumber(item.score, 1)}</li>`)}
                </ul>`
              : html`<p class="muted">Знаки качества за ${year} год ещё не присуждены.</p>`}
        <//>
      </div>
    </div>
    <div class="card">
      <h2>По муниципальным образованиям (ОКТМО)</h2>
      <${Section} state=${dashboard} what="Разбивка по муниципалитетам">
        ${() => html`<${BreakdownTable}
          rows=${board.by_municipality}
          title="Муниципальное образование"
          testid="by-municipality"
          counted=${true}
          names=${(row) => (row.key === "unknown" ? "Без ОКТМО" : row.key)}
        />`}
      <//>
    </div>
    <div class="card">
      <h2>По типам учреждений</h2>
      <${Section} state=${dashboard} what="Разбивка по типам учреждений">
        ${() => html`<${BreakdownTable}
          rows=${board.by_kind}
          title="Тип учреждения"
          testid="by-kind"
          names=${(row) => label(INSTITUTION_KINDS, row.key)}
        />`}
      <//>
    </div>
    <div class="two">
      <div class="card">
        <h2>Рейтинг страниц региона</h2>
        <${Section} state=${pageRating} what="Рейтинг страниц">
          ${() => html`<${RatingTable} data=${pageRating.data} parts=${PAGE_PARTS} testid="page-rating" caption="Страницы" />`}
        <//>
      </div>
      <div class="card">
        <h2>Рейтинг регионов</h2>
        <${Section} state=${regionRating} what="Рейтинги">
          ${() => html`<${RatingTable} data=${regionRating.data} parts=${REGION_PARTS} testid="region-rating" caption="Регионы" />`}
        <//>
      </div>
    </div>
  </section>`;
}
