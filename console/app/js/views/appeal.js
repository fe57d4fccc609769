// One appeal: text and context, classification (editable), deadline, history, answer quality, and the actions the
// API offers: reply (interim or final) with its send state, assignment to an institution, status changes, and for an
// appeal escalated under 59-ФЗ its track (registration within 3 days, answer within 30, one extension).
// Every instant shows in the appeal's own time zone (its institution's, or its region's).
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
  isPast,
  label,
  vkLink,
  zonedIso,
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
  escalated_59fz: [], // a formal appeal stays on its 59-ФЗ track until answered
  no_action: ["new"],
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

// The zone the appeal's deadlines run in, and a note of it (marked when it is not the region's own).
function ZoneNote({ zone, regionZone }) {
  const own = regionZone && zone !== regionZone;
  return html`<p class="zone muted" data-testid="appeal-zone">
    Время: ${zone}${own ? html` — часовой пояс учреждения (в регионе ${regionZone})` : null}
  </p>`;
}

function RegisterForm({ ctx, appeal, zone, onResult }) {
  const [number, setNumber] = useState("");
  const [at, setAt] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    const body = { number: number.trim(), ...(at ? { registered_at: zonedIso(at, zone) } : {}) };
    try {
      const { formal } = await ctx.api.call("registerAppeal", { path: { appeal_id: appeal.id }, body });
      onResult({
        ok: `Зарегистрировано под № ${formal.registration_number}, ответ до ${formatDateTime(formal.answer_due_at, zone)}`,
      });
    } catch (error) {
      onResult({ error, title: "Обращение не зарегистрировано" });
    }
    setBusy(false);
  };
  return html`<form class="formal-form" onSubmit=${submit} data-write="register">
    <h3>Регистрация</h3>
    <label
      >Регистрационный номер
      <input type="text" name="number" required maxlength="64" value=${number} onInput=${(e) => setNumber(e.target.value)}
    /></label>
    <label
      >Дата и время регистрации (${zone}; пусто — сейчас)
      <input type="datetime-local" name="registered_at" value=${at} onInput=${(e) => setAt(e.target.value)}
    /></label>
    <button type="submit" class="primary" disabled=${busy || !number.trim()}>Зарегистрировать</button>
  </form>`;
}

function ExtendForm({ ctx, appeal, zone, onResult }) {
  const [draft, setDraft] = useState({ days: "", reason: "", notice: "" });
  const [busy, setBusy] = useState(false);
  const set = (name) => (e) => setDraft({ ...draft, [name]: e.target.value });
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    const notice = draft.notice.trim();
    const body = { days: Number(draft.days), reason: draft.reason.trim(), ...(notice ? { notice } : {}) };
    try {
      const { formal } = await ctx.api.call("extendAppeal", { path: { appeal_id: appeal.id }, body });
      const due = formatDateTime(formal.answer_due_at, zone);
      const told = notice ? "; уведомление жителю отправляется во ВКонтакте" : "";
      onResult({ ok: `Срок ответа продлён на ${formal.extension_days} дн., до ${due}${told}` });
    } catch (error) {
      onResult({ error, title: "Срок не продлён" });
    }
    setBusy(false);
  };
  return html`<form class="formal-form" onSubmit=${submit} data-write="extend">
    <h3>Продление срока</h3>
    <p class="muted">59-ФЗ допускает одно продление, не более чем на 30 дней, до истечения срока ответа.</p>
    <label
      >Дней (1–30)
      <input type="number" name="days" min="1" max="30" step="1" required value=${draft.days} onInput=${set("days")}
    /></label>
    <label
      >Причина продления
      <textarea name="reason" rows="2" required maxlength="1000" value=${draft.reason} onInput=${set("reason")}></textarea>
    </label>
    <label
      >Уведомление жителю во ВКонтакте (необязательно)
      <textarea name="notice" rows="3" maxlength="4000" value=${draft.notice} onInput=${set("notice")}></textarea>
    </label>
    <button type="submit" class="primary" disabled=${busy || !draft.days || !draft.reason.trim()}>Продлить срок</button>
  </form>`;
}

// The 59-ФЗ track of an escalated appeal: its deadlines (the one passed marked overdue), registration, extension,
// and the form for its next step. A result stays shown after the appeal is read again (the form it came from may go).
function FormalPanel({ ctx, appeal, zone, regionZone, onChanged }) {
  const [result, setResult] = useState(null);
  const { formal } = appeal;
  if (!formal) return null;
  const now = Date.now();
  const open = isOpen(appeal);
  const registered = Boolean(formal.registration_number);
  const writable = can.formalTrack(ctx.session) && appeal.status === "escalated_59fz";
  const registrationOverdue = !registered && open && isPast(formal.registration_due_at, now);
  const registeredLate = registered && new Date(formal.registered_at) > new Date(formal.registration_due_at);
  const answerOverdue = registered && open && isPast(formal.answer_due_at, now);
  const extendedAt = formatDateTime(formal.extended_at, zone);
  const onResult = (outcome) => {
    setResult(outcome);
    if (outcome.ok || outcome.error?.status === 409) onChanged();
  };
  const overdueBadge = html` <span class="badge overdue">Просрочено</span>`;
  return html`<section class="card formal" data-testid="formal-track" aria-labelledby="formal-title">
    <h2 id="formal-title">59-ФЗ</h2>
    <dl class="facts">
      <dt>Передано по 59-ФЗ</dt>
      <dd data-testid="formal-escalated">${formatDateTime(formal.escalated_at, zone)}</dd>
      <dt>Зарегистрировать до</dt>
      <dd data-testid="formal-registration-due" class=${registrationOverdue ? "overdue" : null}>
        ${formatDateTime(formal.registration_due_at, zone)}
        ${!registered && open ? html` · ${countdown(formal.registration_due_at, now)}` : null}
        ${registrationOverdue ? overdueBadge : null}
      </dd>
      <dt>Рег. номер</dt>
      <dd data-testid="formal-number">
        ${registered ? `№ ${formal.registration_number}` : html`<span class="muted">не зарегистрировано</span>`}
      </dd>
      <dt>Зарегистрировано</dt>
      <dd data-testid="formal-registered">
        ${formatDateTime(formal.registered_at, zone)}
        ${registeredLate ? html` <span class="badge overdue">Позже срока</span>` : null}
      </dd>
      <dt>Ответить до</dt>
      <dd data-testid="formal-answer-due" class=${answerOverdue ? "overdue" : null}>
        ${formal.answer_due_at
          ? formatDateTime(formal.answer_due_at, zone)
          : html`<span class="muted">30 дней с регистрации</span>`}
        ${registered && open ? html` · ${countdown(formal.answer_due_at, now)}` : null}
        ${answerOverdue ? overdueBadge : null}
      </dd>
      <dt>Продление</dt>
      <dd data-testid="formal-extension">
        ${formal.extension_days
          ? html`на ${formal.extension_days} дн.: ${formal.extension_reason} <span class="muted">(${extendedAt})</span>`
          : html`<span class="muted">не продлевался</span>`}
      </dd>
    </dl>
    <${ZoneNote} zone=${zone} regionZone=${regionZone} />
    ${writable && !registered && ctx.api.has("registerAppeal") !== false
      ? html`<${RegisterForm} ctx=${ctx} appeal=${appeal} zone=${zone} onResult=${onResult} />`
      : null}
    ${writable && registered && !formal.extension_days && ctx.api.has("extendAppeal") !== false
      ? html`<${ExtendForm} ctx=${ctx} appeal=${appeal} zone=${zone} onResult=${onResult} />`
      : null}
    ${result?.ok && html`<p class="ok" role="status" data-testid="formal-result">${result.ok}</p>`}
    <${ErrorBox} error=${result?.error} title=${result?.title} />
  </section>`;
}

export function AppealView({ ctx, id }) {
  const { api, regions } = ctx;
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
  const regionZone = regions.find((r) => r.code === appeal.region_code)?.timezone;
  const timeZone = appeal.time_zone ?? regionZone ?? ctx.timeZone;
  const formalDue = appeal.formal && (appeal.formal.answer_due_at ?? appeal.formal.registration_due_at);
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
                <p class="muted">
                  ${label(REPLY_STATES, reply.state)} · ${formatDateTime(reply.sent_at ?? reply.queued_at, timeZone)}
                </p>
                ${reply.error &&
                html`<div class="error" role="alert">
                  ВКонтакте не принял ответ: ${VK_ERRORS[reply.error_code] ?? reply.error}
                </div>`}
              </li>`,
            )}
          </ul>
        </div>`}
        <${FormalPanel} ctx=${ctx} appeal=${appeal} zone=${timeZone} regionZone=${regionZone} onChanged=${load} />
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
                  ${entry.registration_number ? html` · № ${entry.registration_number}` : null}
                  ${entry.extension_days ? html` · на ${entry.extension_days} дн.` : null}
                  ${entry.reason ? html`<div class="muted">${entry.reason}</div>` : null}
                  ${entry.text ? html`<div class="muted">${entry.text}</div>` : null}
                </li>`,
            )}
          </ol>
        </section>
      </div>
      <aside>
        <div class="card">
          <h2>Срок</h2>
          ${formalDue
            ? html`<p data-testid="appeal-deadline">
                ${formatDateTime(formalDue, timeZone)}
                ${isOpen(appeal) ? html`<br /><strong>${countdown(formalDue)}</strong>` : null}
                <br /><span class="muted">${appeal.formal.answer_due_at ? "ответ по 59-ФЗ" : "регистрация по 59-ФЗ"}</span>
              </p>`
            : appeal.due_at
              ? html`<p data-testid="appeal-deadline">
                  ${formatDateTime(appeal.due_at, timeZone)}
                  ${isOpen(appeal) ? html`<br /><strong>${countdown(appeal.due_at)}</strong>` : null}
                </p>`
              : html`<p class="muted">Срок не установлен</p>`}
          <${ZoneNote} zone=${timeZone} regionZone=${regionZone} />
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
