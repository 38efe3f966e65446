// The public API client and a few DOM helpers shared by every page.

const TOKEN = "ordo.token";

// ApiError carries a problem+json answer (RFC 9457): its detail is what
// the user reads.
export class ApiError extends Error {
  constructor(status, problem, retryAfter) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
    this.retryAfter = retryAfter;
  }
}

export const session = {
  token: () => sessionStorage.getItem(TOKEN),
  // user decodes the JWT's claims for display only; the gateway checks them.
  user() {
    const t = this.token();
    if (!t) return null;
    try {
      const c = JSON.parse(atob(t.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
      if (c.exp && c.exp * 1000 < Date.now()) return null;
      return { name: c.sub, role: c.role };
    } catch {
      return null;
    }
  },
  set: (t) => sessionStorage.setItem(TOKEN, t),
  clear: () => sessionStorage.removeItem(TOKEN),
};

// api calls /api/v1<path> and returns the parsed JSON, or throws ApiError.
export async function api(path, { method = "GET", body, headers = {} } = {}) {
  const h = { Accept: "application/json", ...headers };
  const tok = session.token();
  if (tok) h.Authorization = `Bearer ${tok}`;
  if (body !== undefined) h["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(`/api/v1${path}`, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, { title: "Network error", detail: `the gateway cannot be reached (${e.message})` });
  }
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { detail: text.slice(0, 200) }; }
  if (!res.ok) {
    if (res.status === 401 && tok) session.clear();
    throw new ApiError(res.status, data || {}, Number(res.headers.get("Retry-After")) || 0);
  }
  return data;
}

// uuid is the Idempotency-Key; randomUUID needs a secure context, which
// loopback is but a LAN address over http is not.
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((v) => v.toString(16).padStart(2, "0")).join("");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

// h builds an element: h("p", {class: "x"}, "text", child). Text is never
// parsed as HTML, so API data cannot inject markup.
export function h(tag, attrs = {}, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v == null) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  el.append(...kids.flat(Infinity).filter((k) => k != null && k !== false));
  return el;
}

const SVGNS = "http://www.w3.org/2000/svg";

// s builds an SVG element.
export function s(tag, attrs = {}, ...kids) {
  const el = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v != null) el.setAttribute(k, v);
  el.append(...kids.flat(Infinity).filter((k) => k != null));
  return el;
}

export const money = (m) => (m ? new Intl.NumberFormat("en", { style: "currency", currency: m.currency }).format(m.amount / 100) : "–");

export const time = (t) => (t ? new Date(t).toLocaleString() : "–");

// statusBadge shows an order or payment status as a coloured word.
export const statusBadge = (st) => h("span", { class: `badge st-${st || "unknown"}`, "data-status": st || "unknown" }, st || "unknown");

// positions remembers the position each write returned, per order, so the
// next read can ask for read-your-writes.
export const positions = {
  get: (id) => sessionStorage.getItem(`ordo.pos.${id}`),
  set: (id, p) => p && sessionStorage.setItem(`ordo.pos.${id}`, p),
  last: () => sessionStorage.getItem("ordo.pos.last"),
  setLast: (p) => p && sessionStorage.setItem("ordo.pos.last", p),
};

// readFresh GETs a path with ?min_position, waiting through 503
// not-caught-up a few times rather than showing older data.
export async function readFresh(path, pos) {
  const url = pos ? `${path}${path.includes("?") ? "&" : "?"}min_position=${encodeURIComponent(pos)}` : path;
  for (let i = 0; ; i++) {
    try {
      return await api(url);
    } catch (e) {
      if (e.status !== 503 || e.problem.type?.includes("not-caught-up") !== true || i >= 4) throw e;
      await new Promise((r) => setTimeout(r, (e.retryAfter || 1) * 1000));
    }
  }
}
