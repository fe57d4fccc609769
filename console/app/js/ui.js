// Shared pieces of the screens: the html tag, Russian labels, formatting in the region's time, role capabilities,
// and the components that turn an API error into a readable message.
import { h } from "preact";
import htm from "htm";

export const html = htm.bind(h);

export const ROLES = {
  operator: "Оператор ЦУР",
  regional_admin: "Региональный администратор",
  institution_admin: "Администратор учреждения",
  portal: "Региональный портал",
  federal_admin: "Федеральный администратор",
};

export const STATUSES = {
  new: "Новое",
  in_progress: "В работе",
  interim_answer: "Промежуточный ответ",
  answered: "Отвечено",
  closed: "Закрыто",
  no_action: "Не требует ответа",
  forwarded: "Передано в учреждение",
  escalated_59fz: "Обращение по 59-ФЗ",
};

export const KINDS = {
  appeal: "Обращение",
  gratitude: "Благодарность",
  spam: "Спам",
  abuse: "Оскорбление",
  other: "Другое",
};

export const RUBRICS = {
  roads_transport: "Дороги и транспорт",
  improvement: "Благоустройство",
  housing_utilities: "ЖКХ",
  waste: "Мусор и отходы",
  healthcare: "Здравоохранение",
  social_protection: "Соцзащита",
  education: "Образование",
  culture_sport: "Культура и спорт",
  construction: "Строительство",
  ecology: "Экология",
  stray_animals: "Бездомные животные",
  other: "Другое",
};

export const PRIORITIES = { normal: "Обычный", urgent: "Срочный" };

export const SOURCES = {
  wall: "Комментарий на стене",
  board: "Обсуждение",
  photo: "Комментарий к фото",
  video: "Комментарий к видео",
  market: "Комментарий к товару",
  message: "Личное сообщение",
};

export const HISTORY = {
  created: "Получено",
  edited: "Изменено автором",
  deleted: "Удалено",
  restored: "Восстановлено",
  answered: "Дан ответ",
  classified: "Классифицировано",
  reclassified: "Переклассифицировано",
  corrected: "Исправлено оператором",
  assigned: "Передано в учреждение",
  replied: "Отправлен ответ",
  status_changed: "Изменён статус",
  reply_sent: "Ответ опубликован во ВКонтакте",
  reply_failed: "ВКонтакте не принял ответ",
  reopened: "Житель написал снова",
  overdue: "Срок ответа истёк",
  registered: "Зарегистрировано по 59-ФЗ",
  extended: "Срок ответа по 59-ФЗ продлён",
};

export const VK_ERRORS = {
  5: "ключ доступа сообщества недействителен или отозван — задайте новый в реестре",
  7: "у ключа доступа сообщества нет права на это действие",
  15: "доступ запрещён: комментарии закрыты или запись удалена",
  100: "ВКонтакте отклонил параметр запроса",
  212: "комментарии к этой записи закрыты",
  213: "комментарии к этой записи закрыты для сообщества",
  222: "ВКонтакте отклонил ссылку в ответе",
  223: "в этой ветке слишком много ответов",
  901: "житель не принимает сообщения от сообщества",
  902: "настройки приватности жителя запрещают сообщения от сообщества",
};

export const REPLY_STATES = {
  queued: "Ждёт отправки",
  sent: "Отправлен во ВКонтакте",
  failed: "Не отправлен",
};

export const QUALITY_FLAGS = {
  too_short: "слишком короткий",
  no_greeting: "нет приветствия",
  no_deadline: "не назван срок",
  no_measures: "не названы меры",
  template_only: "только шаблон",
};

export const INSTITUTION_KINDS = {
  administration: "Администрация",
  ministry: "Министерство",
  school: "Школа",
  kindergarten: "Детский сад",
  hospital: "Больница",
  library: "Библиотека",
  culture: "Учреждение культуры",
  sport: "Спорт",
  social: "Соцзащита",
  other: "Другое",
};

export const PAGE_CATEGORIES = { flagship: "Флагманская", active: "Активная", card: "Визитка" };

export const CHECKLIST = {
  name_matches: "Название соответствует",
  description: "Описание",
  phone: "Телефон",
  address: "Адрес",
  schedule: "График работы",
  email: "E-mail",
  website_link: "Ссылка на сайт",
  avatar: "Аватар",
  cover: "Обложка",
  gov_mark: "Госметка «Госорганизация»",
  pos_widgets: "Виджеты ПОС (0–2)",
  connected_to_gospubliki: "Подключена к «Госпабликам»",
  comments_open: "Комментарии открыты",
};

export const label = (table, value) => (value == null ? "—" : (table[value] ?? value));

// What a role may do, as the API decides it (README, "Access"); the screens only hide what would answer 403.
export const can = {
  readAppeals: (s) => s.role !== "portal",
  correctAppeals: (s) => ["operator", "regional_admin", "federal_admin"].includes(s.role),
  replyAppeals: (s) => ["operator", "regional_admin", "federal_admin", "institution_admin"].includes(s.role),
  assignAppeals: (s) => ["operator", "regional_admin", "federal_admin"].includes(s.role),
  formalTrack: (s) => ["operator", "regional_admin", "federal_admin", "institution_admin"].includes(s.role),
  editPages: (s) => ["regional_admin", "federal_admin", "institution_admin"].includes(s.role),
  importRegistry: (s) => ["regional_admin", "federal_admin"].includes(s.role),
  regionWide: (s) => s.role !== "institution_admin",
};

export function formatDateTime(value, timeZone) {
  if (!value) return "—";
  return new Intl.DateTimeFormat("ru-RU", {
    timeZone,
    day: "2-digit",
    month: "2-digit",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  }).format(new Date(value));
}

// The UTC offset (minutes) of a time zone at an instant (ms since the epoch).
function zoneOffset(timeZone, at) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    })
      .formatToParts(at)
      .map((part) => [part.type, Number(part.value)]),
  );
  const wall = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
  return Math.round((wall - Math.floor(at / 1000) * 1000) / 60000);
}

// A datetime-local value ("2026-11-03T10:00") read as the wall clock of timeZone: ISO 8601 with that zone's offset.
export function zonedIso(local, timeZone) {
  const [day, time = "00:00"] = local.split("T");
  const [year, month, date] = day.split("-").map(Number);
  const [hours, minutes, seconds = 0] = time.split(":").map(Number);
  const wall = Date.UTC(year, month - 1, date, hours, minutes, seconds);
  const offset = zoneOffset(timeZone, wall - zoneOffset(timeZone, wall) * 60000);
  const pad = (n) => String(n).padStart(2, "0");
  const sign = offset < 0 ? "-" : "+";
  const span = Math.abs(offset);
  return `${day}T${pad(hours)}:${pad(minutes)}:${pad(seconds)}${sign}${pad(Math.floor(span / 60))}:${pad(span % 60)}`;
}

export function formatNumber(value, digits = 0) {
  if (value == null) return "—";
  return new Intl.NumberFormat("ru-RU", { maximumFractionDigits: digits }).format(value);
}

// "через 3 ч 20 мин" / "просрочено на 40 мин".
export function countdown(due, now = Date.now()) {
  if (!due) return "";
  const minutes = Math.round((new Date(due).getTime() - now) / 60000);
  const span = Math.abs(minutes);
  const days = Math.floor(span / 1440);
  const hours = Math.floor((span % 1440) / 60);
  const mins = span % 60;
  const text = [days && `${days} д`, hours && `${hours} ч`, (!days && mins) || (!days && !hours) ? `${mins} мин` : ""]
    .filter(Boolean)
    .join(" ");
  return minutes >= 0 ? `через ${text}` : `просрочено на ${text}`;
}

export function errorText(error) {
  if (!error) return "";
  if (error.status === 0) return "Сервер недоступен. Проверьте подключение и повторите.";
  if (error.status === 401) return "Сеанс истёк: войдите снова.";
  if (error.status === 403) return `Недостаточно прав: ${error.message}`;
  if (error.routeMissing) return "Эта функция ещё не развёрнута на сервере.";
  if (error.status === 404) return "Не найдено или недоступно для вашей роли.";
  if (error.status === 409) return `Конфликт: ${error.message}`;
  if (error.status === 422) {
    const fields = (error.detail ?? []).map((item) => `${item.field ?? ""} ${item.message}`.trim()).join("; ");
    return `Неверные данные: ${fields || error.message}`;
  }
  return error.message || "Неизвестная ошибка";
}

export function ErrorBox({ error, title }) {
  if (!error) return null;
  return html`<div class="error" role="alert">
    ${title ? html`<strong>${title}. </strong>` : null}${errorText(error)}
  </div>`;
}

export function Loading({ text = "Загрузка…" }) {
  return html`<p class="muted" aria-live="polite">${text}</p>`;
}

export function NotYet({ what }) {
  return html`<p class="notice">${what}: появится после обновления сервера.</p>`;
}

export function Kpi({ title, value, hint, id }) {
  return html`<div class="kpi" data-kpi=${id}>
    <div class="kpi-value">${value}</div>
    <div class="kpi-title">${title}</div>
    ${hint ? html`<div class="kpi-hint">${hint}</div>` : null}
  </div>`;
}

export function downloadBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = Object.assign(document.createElement("a"), { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function vkLink(source) {
  if (!source) return null;
  const g = source.group_id;
  switch (source.type) {
    case "wall":
      return `https://vk.com/wall-${g}_${source.post_id}${source.comment_id ? `?reply=${source.comment_id}` : ""}`;
    case "board":
      return `https://vk.com/topic-${g}_${source.topic_id}${source.comment_id ? `?post=${source.comment_id}` : ""}`;
    case "photo":
      return `https://vk.com/photo-${g}_${source.photo_id}`;
    case "video":
      return `https://vk.com/video-${g}_${source.video_id}`;
    case "market":
      return `https://vk.com/market-${g}?w=product-${g}_${source.item_id}`;
    case "message":
      return `https://vk.com/gim${g}?sel=${source.peer_id}`;
    default:
      return `https://vk.com/club${g}`;
  }
}

export function isOpen(appeal) {
  return !["answered", "closed", "no_action"].includes(appeal.status);
}

// Whether an instant (ISO 8601) has passed.
export function isPast(value, now = Date.now()) {
  return Boolean(value) && new Date(value).getTime() < now;
}

export function isOverdue(appeal, now = Date.now()) {
  if (appeal.overdue !== undefined) return Boolean(appeal.overdue);
  return isOpen(appeal) && Boolean(appeal.due_at) && new Date(appeal.due_at).getTime() < now;
}
