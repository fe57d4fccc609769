// The one place that talks HTTP: every call names an operation of contract.json, which the tests check against the
// OpenAPI of the services. Response fields the screens read are recorded (window.__apiReads) so the browser tests can
// check them against the contract too.

export class ApiError extends Error {
  constructor(status, message, detail = []) {
    super(message);
    this.status = status;
    this.detail = detail;
  }

  // True when the route itself is missing (not deployed yet), not just the object asked for.
  get routeMissing() {
    return this.status === 404 && this.message === "Not Found";
  }
}

const reads = new Set();
window.__apiReads = reads;

const IGNORED = new Set(["then", "toJSON", "constructor", "length"]);

function recording(value, prefix, operation) {
  if (value === null || typeof value !== "object") return value;
  return new Proxy(value, {
    get(target, key, receiver) {
      const own = typeof key === "string" && Object.prototype.hasOwnProperty.call(target, key);
      const result = Reflect.get(target, key, receiver);
      if (!own || IGNORED.has(key)) return result;
      const path = Array.isArray(target) ? `${prefix}[]` : `${prefix}${prefix ? "." : ""}${key}`;
      if (!Array.isArray(target)) reads.add(`${operation}:${path}`);
      return recording(result, path, operation);
    },
  });
}

function fillPath(template, params = {}) {
  return template.replace(/\{(\w+)\}/g, (_, name) => {
    if (params[name] === undefined) throw new Error(`path parameter ${name} missing`);
    return encodeURIComponent(params[name]);
  });
}

async function errorOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    /* not JSON */
  }
  const message = body?.message ?? (typeof body?.detail === "string" ? body.detail : response.statusText);
  const detail = Array.isArray(body?.detail) ? body.detail : [];
  return new ApiError(response.status, message || `HTTP ${response.status}`, detail);
}

export class Api {
  constructor({ base, contract, getToken, onUnauthorized }) {
    this.base = base;
    this.operations = contract.operations;
    this.getToken = getToken;
    this.onUnauthorized = onUnauthorized;
    this.published = null; // "METHOD /path/{}" of the OpenAPI, when the API serves one (the local stack)
  }

  // The same API with a fixed token (the local sign-in form lists regions and institutions with a read-only one).
  withToken(token) {
    const copy = Object.create(this);
    copy.getToken = () => token;
    copy.onUnauthorized = null;
    return copy;
  }

  // Which operations the API has: read once from /openapi.json where it is served; elsewhere unknown (null).
  async discover() {
    try {
      const response = await fetch(`${this.base}/openapi.json`);
      if (!response.ok) return;
      const spec = await response.json();
      this.published = new Set();
      for (const [path, item] of Object.entries(spec.paths ?? {})) {
        for (const method of Object.keys(item)) this.published.add(`${method.toUpperCase()} ${normalise(path)}`);
      }
    } catch {
      this.published = null;
    }
  }

  // true / false when the OpenAPI says; for a coming operation without an OpenAPI: null (try it, explain a 404).
  has(id) {
    const op = this.operation(id);
    if (this.published) return this.published.has(`${op.method.toUpperCase()} ${normalise(op.path)}`);
    return op.coming ? null : true;
  }

  operation(id) {
    const op = this.operations[id];
    if (!op) throw new Error(`operation ${id} is not in contract.json`);
    return op;
  }

  url(id, { path, query } = {}) {
    const op = this.operation(id);
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query ?? {})) {
      if (!(op.query ?? []).includes(name)) throw new Error(`${id}: query parameter ${name} is not in contract.json`);
      if (value !== undefined && value !== null && value !== "") params.append(name, String(value));
    }
    const search = params.toString();
    return `${this.base}${fillPath(op.path, path)}${search ? `?${search}` : ""}`;
  }

  headers(extra = {}) {
    const token = this.getToken();
    return { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...extra };
  }

  async call(id, { path, query, body } = {}) {
    const op = this.operation(id);
    if (body) {
      for (const name of Object.keys(body)) {
        if (!(op.sends ?? []).includes(name)) throw new Error(`${id}: body field ${name} is not in contract.json`);
      }
    }
    const response = await fetch(this.url(id, { path, query }), {
      method: op.method.toUpperCase(),
      headers: this.headers(body ? { "Content-Type": "application/json" } : {}),
      body: body ? JSON.stringify(body) : undefined,
    });
    if (response.status === 401) this.onUnauthorized?.();
    if (!response.ok) throw await errorOf(response);
    if (op.binary) return response.blob();
    if (response.status === 204) return null;
    const data = await response.json();
    return op.coming ? data : recording(data, "", id);
  }

  // All items of a listing, following next_cursor up to maxPages pages.
  async all(id, { path, query, maxPages = 5 } = {}) {
    const items = [];
    let cursor;
    for (let n = 0; n < maxPages; n += 1) {
      const page = await this.call(id, { path, query: { ...query, cursor } });
      items.push(...page.items);
      cursor = page.next_cursor;
      if (!cursor) return { items, complete: true };
    }
    return { items, complete: false };
  }

  // A multipart upload with progress (fetch cannot report upload progress; XMLHttpRequest can).
  upload(id, { query, file, onProgress }) {
    const op = this.operation(id);
    const form = new FormData();
    form.append(op.form[0], file);
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open(op.method.toUpperCase(), this.url(id, { query }));
      for (const [name, value] of Object.entries(this.headers())) xhr.setRequestHeader(name, value);
      xhr.upload.onprogress = (event) => event.lengthComputable && onProgress?.(event.loaded / event.total);
      xhr.onerror = () => reject(new ApiError(0, "Сервер недоступен"));
      xhr.onload = () => {
        let body = null;
        try {
          body = JSON.parse(xhr.responseText);
        } catch {
          /* not JSON */
        }
        if (xhr.status === 401) this.onUnauthorized?.();
        if (xhr.status >= 200 && xhr.status < 300) resolve(recording(body, "", id));
        else reject(new ApiError(xhr.status, body?.message ?? xhr.statusText, body?.detail ?? []));
      };
      xhr.send(form);
    });
  }
}

export function normalise(path) {
  return path.replace(/\{[^}]+\}/g, "{}");
}
