// The region dashboard: coverage and compliance from the registry, activity per day from metrics, top rubrics from
// triage; the metrics dashboard, ratings and weekly report show up as soon as the API serves them.
import { useEffect, useRef, useState } from "preact/hooks";

import { ErrorBox, Kpi, Loading, NotYet, RUBRICS, can, downloadBlob, formatNumber, html, label } from "../ui.js";

const DAYS = 30;
const SERIES = [
  ["comment", "Комментарии", "#1f6feb"],
  ["message", "Сообщения", "#8250df"],
  ["post", "Публикации", "#2da44e"],
  ["join", "Подписки", "#bf8700"],
  ["leave", "Отписки", "#cf222e"],
];

function isoDay(date) {
  return date.toISOString().slice(0, 10);
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
function useOptional(ctx, id, args, enabled = true) {
  const [state, setState] = useState({ loading: enabled });
  useEffect(() => {
    if (!enabled || ctx.api.has(id) === false) {
      setState({ missing: ctx.api.has(id) === false });
      return;
    }
    ctx.api
      .call(id, args)
      .then((data) => setState({ data }))
      .catch((error) => setState(error.routeMissing ? { missing: true } : { error }));
  }, [ctx.region]);
  return state;
}

function GenericKpis({ data }) {
  const numbers = Object.entries(data ?? {}).filter(([, v]) => typeof v === "number");
  return html`<div class="kpis">${numbers.map(([k, v]) => html`<${Kpi} id=${k} title=${k} value=${formatNumber(v, 1)} />`)}</div>`;
}

function Ratings({ data }) {
  const items = Array.isArray(data) ? data : (data?.items ?? []);
  if (!items.length) return html`<p class="muted">Нет данных рейтинга.</p>`;
  const columns = Object.keys(items[0]).filter((k) => typeof items[0][k] !== "object");
  return html`<div class="table-wrap">
    <table>
      <thead><tr>${columns.map((c) => html`<th scope="col">${c}</th>`)}</tr></thead>
      <tbody>${items.map((row) => html`<tr>${columns.map((c) => html`<td>${String(row[c] ?? "")}</td>`)}</tr>`)}</tbody>
    </table>
  </div>`;
}

export function DashboardView({ ctx }) {
  const { api, region, session } = ctx;
  const regionWide = can.regionWide(session);
  const to = new Date();
  const from = new Date(to.getTime() - (DAYS - 1) * 86400000);
  const range = { from: isoDay(from), to: isoDay(to) };
  const activity = useOptional(ctx, "regionActivity", { path: { region_code: region }, query: range }, regionWide);
  const coverage = useOptional(ctx, "coverage", { query: { region } }, regionWide);
  const triage = useOptional(ctx, "triageStats", { query: { region, ...range } }, regionWide && can.readAppeals(session));
  const dashboard = useOptional(ctx, "regionDashboard", { path: { region_code: region }, query: { period: "week" } }, regionWide);
  const ratings = useOptional(ctx, "ratings", { query: { level: "region", period: "week" } }, regionWide);
  const [report, setReport] = useState(null);

  if (!regionWide) {
    return html`<h1>Показатели</h1>
      <p class="notice">Показатели региона доступны ЦУР, региональным администраторам и порталам. Откройте реестр,
      чтобы увидеть страницы своего учреждения.</p>`;
  }
  const stats = coverage.data?.regions?.[0]?.total;
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
  const compliance = stats?.compliance ?? {};
  const buckets = ["0-24", "25-49", "50-74", "75-99", "100"];
  const complianceChart = {
    type: "bar",
    data: {
      labels: buckets.map((b) => `${b}%`),
      datasets: [{ label: "Страниц", data: buckets.map((b) => compliance[b] ?? 0), backgroundColor: "#1f6feb" }],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: { legend: { display: false } },
      scales: { y: { ticks: { precision: 0 } } },
    },
  };
  const rubrics = Object.entries(triage.data?.rubric ?? {})
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
    options: {
      indexAxis: "y",
      scales: { x: { ticks: { precision: 0 } } },
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: { legend: { display: false } },
    },
  };
  const downloadReport = async () => {
    setReport({ busy: true });
    try {
      const blob = await api.call("weeklyReport", { query: { region, format: "xlsx" } });
      downloadBlob(blob, `weekly-report-${region}.xlsx`);
      setReport(null);
    } catch (error) {
      setReport({ error });
    }
  };
  return html`<section aria-labelledby="dashboard-title">
    <div class="title-row">
      <h1 id="dashboard-title">Показатели региона</h1>
      <span class="muted">последние ${DAYS} дней</span>
      ${api.has("weeklyReport") !== false &&
      html`<button type="button" onClick=${downloadReport} disabled=${report?.busy}>Недельный отчёт (XLSX)</button>`}
    </div>
    ${report?.error &&
    (report.error.routeMissing
      ? html`<${NotYet} what="Недельный отчёт" />`
      : html`<${ErrorBox} error=${report.error} title="Отчёт не получен" />`)}
    <div class="kpis" data-testid="kpis">
      <${Kpi} id="coverage" title="Покрытие учреждений" value=${stats ? `${formatNumber(stats.coverage_pct, 1)}%` : "—"} />
      <${Kpi} id="pages" title="Страниц" value=${stats ? formatNumber(stats.pages) : "—"} />
      <${Kpi} id="gov_mark" title="С госметкой" value=${stats ? `${formatNumber(stats.gov_mark_share, 1)}%` : "—"} />
      <${Kpi} id="comments" title="Комментариев" value=${formatNumber(totals.comment ?? 0)} />
      <${Kpi} id="messages" title="Сообщений" value=${formatNumber(totals.message ?? 0)} />
      <${Kpi} id="subscribers" title="Подписки − отписки" value=${formatNumber((totals.join ?? 0) - (totals.leave ?? 0))} />
    </div>
    <${ErrorBox} error=${coverage.error} title="Покрытие не загружено" />
    <div class="two">
      <div class="card">
        <h2>Активность по дням</h2>
        ${activity.loading
          ? html`<${Loading} />`
          : activity.error
            ? html`<${ErrorBox} error=${activity.error} />`
            : activity.missing
              ? html`<${NotYet} what="Активность" />`
              : html`<${ChartCanvas} config=${activityChart} label="Активность по дням" />`}
      </div>
      <div class="card">
        <h2>Соответствие страниц требованиям</h2>
        <${ChartCanvas} config=${complianceChart} label="Страницы по проценту соответствия" />
      </div>
      ${can.readAppeals(session) &&
      html`<div class="card">
        <h2>Топ рубрик обращений</h2>
        ${triage.error
          ? html`<${ErrorBox} error=${triage.error} />`
          : rubrics.length
            ? html`<${ChartCanvas} config=${rubricChart} label="Топ рубрик" />`
            : html`<p class="muted">Нет обращений за период.</p>`}
      </div>`}
      <div class="card" data-testid="appeals-kpis">
        <h2>Обращения: новые, решённые, в срок</h2>
        ${dashboard.missing
          ? html`<${NotYet} what="Сводка по обращениям и срокам" />`
          : dashboard.error
            ? html`<${ErrorBox} error=${dashboard.error} />`
            : html`<${GenericKpis} data=${dashboard.data} />`}
      </div>
      <div class="card">
        <h2>Рейтинг регионов</h2>
        ${ratings.missing
          ? html`<${NotYet} what="Рейтинги" />`
          : ratings.error
            ? html`<${ErrorBox} error=${ratings.error} />`
            : html`<${Ratings} data=${ratings.data} />`}
      </div>
    </div>
  </section>`;
}
