// One appeal: text and context, classification (editable), deadline, history, answer quality, and the actions the
// API offers: reply (interim or final) with its send state, assignment to an institution, status changes.
import { useEffect, useState } from "preact/hooks";

import {
  ErrorBox,
  HISTORY,
  KINDS,
  Loading,
  PRIORITIES,
  QUALITY_FLAGS,
  REPLY_STATES,
  RUBRICS,
  SOURCES,
  STATUSES,
  VK_ERRORS,
  can,
  countdown,
  formatDateTime,
  html,
  isOpen,
  isOverdue,
  label,
  vkLink,
} from "../ui.js";

const POLL_MS = 1000;
const POLL_LIMIT_MS = 60000;

// The next statuses the lifecycle allows from each status (the API answers 409 to anything else).
const TRANSITIONS = {
  new: ["in_progress", "no_action", "escalated_59fz"],
  in_progress: ["no_action", "escalated_59fz"],
  interim_answer: ["escalated_59fz"],
  answered: ["closed", "in_progress"],
  forwarded: ["in_progress"],
  escalated_59fz: ["in_progress"],
  no_action: ["in_progress"],
  closed: [],
};

function Classification({ ctx, appeal, onSaved }) {
  const editable = can.correctAppeals(ctx.session);
  const [draft, setDraft] = useState({ kind: appeal.kind, rubric: appeal.rubric ?? "", priority: appeal.priority });
  const [state, setState] = useState({});
  const save = async (event) => {
    event.preventDefault();
    setState({ busy: true });
    try {
      const body = { kind: draft.kind, rubric: draft.rubric || null, priority: draft.priority };
      await ctx.api.call("correctAppeal", { path: { appeal_id: appeal.id }, body });
      setState({ saved: true });
      onSaved();
    } catch (error) {
      setState({ error });
    }
  };
  if (!editable) {
    return html`<dl class="facts">
      <dt>Вид</dt><dd>${label(KINDS, appeal.kind)}</dd>
      <dt>Рубрика</dt><dd>${label(RUBRICS, appeal.rubric)}</dd>
      <dt>Приоритет</dt><dd>${label(PRIORITIES, appeal.priority)}</dd>
    </dl>`;
  }
  const select = (name, values, empty) =>
    html`<select name=${name} value=${draft[name]} onChange=${(e) => setDraft({ ...draft, [name]: e.target.value })}>
      ${empty && html`<option value="">${empty}</option>`}
      ${Object.entries(values).map(([id, text]) => html`<option value=${id}>${text}</option>`)}
    </select>`;
  return html`<form class="classify" onSubmit=${save} data-write="classify">
    <label>Вид ${select("kind", KINDS)}</label>
    <label>Рубрика ${select("rubric", RUBRICS, "—")}</label>
    <label>Приоритет ${select("priority", PRIORITIES)}</label>
    <button type="submit" disabled=${state.busy}>Сохранить классификацию</button>
    ${state.saved && html`<span class="ok" role="status">Сохранено</span>`}
    <${ErrorBox} error=${state.error} />
  </form>`;
}

function ReplyForm({ ctx, appeal, onSent }) {
  const available = ctx.api.has("replyAppeal");
  const [text, setText] = useState("");
  const [interim, setInterim] = useState(false);
  const [state, setState] = useState({});
  if (!can.replyAppeals(ctx.session) || available === false || !isOpen(appeal)) return null;
  const send = async (event) => {
    event.preventDefault();
    setState({ busy: true, phase: "Отправка…" });
    try {
      await ctx.api.call("replyAppeal", { path: { appeal_id: appeal.id }, body: { text, interim } });
      setState({ phase: "Ответ поставлен в очередь, ждём подтверждения ВКонтакте…", waiting: true });
      setText("");
      onSent(interim);
    } catch (error) {
      setState({ error });
    }
  };
  return html`<form class="reply card" onSubmit=${send} data-write="reply">
    <h2>Ответ</h2>
    <label
      >Текст ответа
      <textarea name="reply" rows="5" required value=${text} onInput=${(e) => setText(e.target.value)}></textarea>
    </label>
    <label class="check"
      ><input type="checkbox" checked=${interim} onChange=${(e) => setInterim(e.target.checked)} /> Промежуточный ответ
      (окончательный — в течение 7 дней)</label
    >
    <button type="submit" class="primary" disabled=${state.busy || !text.trim()}>Отправить во ВКонтакте</button>
    ${state.phase && html`<p role="status" data-testid="reply-state">${state.phase}</p>`}
    <${ErrorBox} error=${state.error} title="Ответ не отправлен" />
  </form>`;
}

function Actions({ ctx, appeal, onChanged }) {
  const [institutions, setInstitutions] = useState([]);
  const [target, setTarget] = useState("");
  const [state, setState] = useState({});
  const assign = can.assignAppeals(ctx.session) && ctx.api.has("assignAppeal") !== false;
  const transition = can.assignAppeals(ctx.session) && ctx.api.has("transitionAppeal") === true;
  useEffect(() => {
    if (!assign) return;
    ctx.api
      .all("listInstitutions", { query: { region: appeal.region_code, limit: 100 } })
      .then(({ items }) => setInstitutions(items))
      .catch(() => setInstitutions([]));
  }, [appeal.id]);
  if (!assign && !transition) return null;
  const run = async (id, body) => {
    setState({ busy: true });
    try {
      await ctx.api.call(id, { path: { appeal_id: appeal.id }, body });
      setState({ done: true });
      onChanged();
    } catch (error) {
      setState({ error });
    }
  };
  return html`<div class="card actions" data-write="actions">
    <h2>Действия</h2>
    ${transition &&
    html`<div class="buttons">
      ${(TRANSITIONS[appeal.status] ?? []).map(
        (status) =>
          html`<button type="button" disabled=${state.busy} onClick=${() => run("transitionAppeal", { status })}>
            ${label(STATUSES, status)}
          </button>`,
      )}
    </div>`}
    ${assign &&
    html`<form
      class="inline-form"
      onSubmit=${(e) => {
        e.preventDefault();
        run("assignAppeal", { institution_id: target });
      }}
    >
      <label
        >Передать в учреждение
        <select value=${target} onChange=${(e) => setTarget(e.target.value)} required>
          <option value="">Выберите…</option>
          ${institutions.map((i) => html`<option value=${i.id}>${i.short_name ?? i.name}</option>`)}
        </select></label
      >
      <button type="submit" disabled=${state.busy || !target}>Передать</button>
    </form>`}
    ${state.done && html`<span class="ok" role="status">Готово</span>`}
    <${ErrorBox} error=${state.error} title="Действие не выполнено" />
  </div>`;
}

export function AppealView({ ctx, id }) {
  const { api, timeZone } = ctx;
  const [appeal, setAppeal] = useState(null);
  const [context, setContext] = useState({});
  const [error, setError] = useState(null);
  const [waitingSince, setWaitingSince] = useState(null);

  const load = async () => {
    try {
      setAppeal(await api.call("getAppeal", { path: { appeal_id: id } }));
      setError(null);
    } catch (e) {
      setError(e);
    }
  };
  useEffect(() => {
    load();
  }, [id]);
  useEffect(() => {
    if (!appeal) return;
    Promise.allSettled([
      api.call("getPage", { path: { page_id: appeal.page_id } }),
      api.call("getInstitution", { path: { institution_id: appeal.institution_id } }),
    ]).then(([page, institution]) => setContext({ page: page.value, institution: institution.value }));
  }, [appeal?.page_id]);
  // After a reply: poll until VK's echo marks the appeal answered (or the reply reports an error).
  useEffect(() => {
    if (!waitingSince) return undefined;
    const timer = setInterval(async () => {
      await load();
      if (Date.now() - waitingSince > POLL_LIMIT_MS) setWaitingSince(null);
    }, POLL_MS);
    return () => clearInterval(timer);
  }, [waitingSince]);
  useEffect(() => {
    const lastReply = appeal?.replies?.at(-1);
    if (waitingSince && appeal && (!isOpen(appeal) || appeal.status === "interim_answer" || lastReply?.state === "failed")) {
      setWaitingSince(null);
    }
  }, [appeal]);

  if (error && !appeal) {
    return html`<p><a href="#/inbox">← К списку</a></p>
      <${ErrorBox} error=${error} title="Обращение не открыто" />`;
  }
  if (!appeal) return html`<${Loading} />`;
  const { page, institution } = context;
  const link = vkLink(appeal.source);
  const overdue = isOverdue(appeal);
  return html`<article class="appeal-detail" aria-labelledby="appeal-title">
    <p><a href="#/inbox">← К списку</a></p>
    <div class="title-row">
      <h1 id="appeal-title">Обращение</h1>
      <span class=${`badge status-${appeal.status}`} data-testid="appeal-status">${label(STATUSES, appeal.status)}</span>
      ${appeal.priority === "urgent" && html`<span class="badge urgent">Срочно</span>`}
      ${overdue && html`<span class="badge overdue">Просрочено</span>`}
    </div>
    <div class="grid">
      <div>
        <blockquote class="card text" data-testid="appeal-text">
          ${appeal.deleted ? html`<em>Комментарий удалён.</em> ` : null}${appeal.text}
          ${appeal.obscene && html`<p class="muted">Содержит нецензурную лексику.</p>`}
        </blockquote>
        ${appeal.reply &&
        html`<div class="card">
          <h2>Наш ответ</h2>
          <p>${appeal.reply.text}</p>
          <p class="muted">Отправлен ${formatDateTime(appeal.reply.sent_at, timeZone)}</p>
          ${appeal.answer_quality &&
          html`<p data-testid="answer-quality">
            Качество ответа: <strong>${appeal.answer_quality.score}/100</strong>
            ${(appeal.answer_quality.flags ?? []).length
              ? html` — ${appeal.answer_quality.flags.map((f) => label(QUALITY_FLAGS, f)).join(", ")}`
              : null}
          </p>`}
        </div>`}
        ${(appeal.replies ?? []).length > 0 &&
        html`<div class="card" data-testid="outgoing-replies">
          <h2>Ответы из консоли</h2>
          <ul class="plain">
            ${appeal.replies.map(
              (reply) => html`<li data-reply-state=${reply.state}>
                <p>${reply.interim ? "Промежуточный: " : ""}${reply.text}</p>
                <p class="muted">${label(REPLY_STATES, reply.state)} ·
                  ${formatDateTime(reply.sent_at ?? reply.queued_at, timeZone)}</p>
                ${reply.error &&
                html`<div class="error" role="alert">
                  ВКонтакте не принял ответ: ${VK_ERRORS[reply.error_code] ?? reply.error}
                </div>`}
              </li>`,
            )}
          </ul>
        </div>`}
        <${ReplyForm} ctx=${ctx} appeal=${appeal} onSent=${() => setWaitingSince(Date.now())} />
        ${waitingSince && html`<p role="status" class="muted">Ожидаем ответ ВКонтакте…</p>`}
        <section class="card">
          <h2>История</h2>
          <ol class="history">
            ${(appeal.history ?? []).map(
              (entry) =>
                html`<li>
                  <time>${formatDateTime(entry.at, timeZone)}</time> ${label(HISTORY, entry.action)}
                  ${entry.by === "community" ? " (сообщество)" : entry.by === "author" ? " (автор)" : ""}
                  ${entry.actor ? html` · ${entry.actor}` : null}
                  ${entry.old_status && entry.new_status
                    ? html` · ${label(STATUSES, entry.old_status)} → ${label(STATUSES, entry.new_status)}`
                    : null}
                  ${entry.text ? html`<div class="muted">${entry.text}</div>` : null}
                </li>`,
            )}
          </ol>
        </section>
      </div>
      <aside>
        <div class="card">
          <h2>Срок</h2>
          ${appeal.due_at
            ? html`<p data-testid="appeal-deadline">
                ${formatDateTime(appeal.due_at, timeZone)}
                ${isOpen(appeal) ? html`<br /><strong>${countdown(appeal.due_at)}</strong>` : null}
              </p>`
            : html`<p class="muted">Срок не установлен</p>`}
          ${appeal.first_response_at &&
          html`<p class="muted">
            Первый ответ ${formatDateTime(appeal.first_response_at, timeZone)}
            ${appeal.response_working_minutes != null
              ? html` · ${appeal.response_working_minutes} раб. мин`
              : appeal.response_elapsed_minutes != null
                ? html` · ${appeal.response_elapsed_minutes} мин`
                : null}
          </p>`}
        </div>
        <div class="card">
          <h2>Источник</h2>
          <dl class="facts">
            <dt>Где</dt><dd>${label(SOURCES, appeal.source?.type)}</dd>
            <dt>Получено</dt><dd>${formatDateTime(appeal.received_at, timeZone)}</dd>
            <dt>Страница</dt><dd>${page ? page.screen_name ?? page.url : "—"}</dd>
            <dt>Учреждение</dt><dd>${institution ? institution.short_name ?? institution.name : "—"}</dd>
          </dl>
          ${link && html`<a href=${link} target="_blank" rel="noopener noreferrer">Открыть во ВКонтакте ↗</a>`}
        </div>
        <div class="card">
          <h2>Классификация</h2>
          ${appeal.triage &&
          html`<p class="muted">
            Автоматически: уверенность ${Math.round(appeal.triage.confidence * 100)}%
            (${appeal.triage.classifier_version})
          </p>`}
          <${Classification} ctx=${ctx} appeal=${appeal} onSaved=${load} key=${`${appeal.kind}${appeal.rubric}${appeal.priority}`} />
        </div>
        <${Actions} ctx=${ctx} appeal=${appeal} onChanged=${load} />
      </aside>
    </div>
  </article>`;
}
