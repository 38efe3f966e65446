// The operator page (role admin): restock, the platform's status with its
// breakers and projection lag, saga outcomes over time, the provider
// simulator's fault knobs.
import { api, h, s, statusBadge, positions } from "./api.js";
import { flash, errorText, poll } from "./ui.js";

const KNOBS = [
  ["decline_rate", "Decline rate (0–1)", 0.05, 1],
  ["error_rate", "Error rate (0–1)", 0.05, 1],
  ["latency_ms", "Latency (ms)", 50, 60000],
  ["lost_response_rate", "Lost responses (0–1)", 0.05, 1],
];

export function adminPage(root) {
  const services = h("div", {}, h("p", { class: "hint" }, "Loading…"));
  const projections = h("div");
  const sagas = h("div");
  root.append(h("h1", {}, "Operator"),
    h("div", { class: "admin-grid" }, restockForm(), faultsForm(),
      h("section", { class: "card wide", "aria-labelledby": "svc-h" }, h("h2", { id: "svc-h" }, "Services and breakers"), services),
      h("section", { class: "card", "aria-labelledby": "proj-h" }, h("h2", { id: "proj-h" }, "Projection lag"), projections),
      h("section", { class: "card", "aria-labelledby": "saga-h" }, h("h2", { id: "saga-h" }, "Saga outcomes over time"), sagas)));
  const samples = []; // {at, counts} from each status poll
  return poll(async () => {
    const st = await api("/admin/status");
    services.replaceChildren(serviceTable(st.services || {}));
    projections.replaceChildren(lagView(st.projections));
    const counts = outcomeCounts(st.sagas);
    if (counts) samples.push({ at: Date.now(), counts });
    if (samples.length > 60) samples.shift();
    sagas.replaceChildren(counts ? sagaChart(samples) : unknown(st.sagas, "not available yet"));
  }, 3000);
}

function restockForm() {
  const sel = h("select", { id: "restock-sku", name: "sku", required: true });
  const form = h("form", { class: "card", id: "restock", "aria-labelledby": "rs-h" }, h("h2", { id: "rs-h" }, "Restock"),
    h("label", { for: "restock-sku" }, "Product"), sel,
    h("label", { for: "restock-qty" }, "Quantity to add"),
    h("input", { id: "restock-qty", name: "quantity", type: "number", min: 1, step: 1, value: 10, required: true }),
    h("button", { type: "submit" }, "Restock"));
  api("/products").then((r) => sel.replaceChildren(...(r.items || []).map((p) => h("option", { value: p.sku }, `${p.name} (${p.sku}) — ${p.available} available`))))
    .catch((e) => flash(errorText(e)));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const r = await api(`/admin/products/${encodeURIComponent(sel.value)}/restock`, { method: "POST", body: { quantity: Number(form.quantity.value) } });
      positions.setLast(r?.position);
      flash(`Restocked ${sel.value} by ${form.quantity.value}.`, "info");
    } catch (e) {
      flash(`Restock failed: ${errorText(e)}`);
    }
  });
  return form;
}

function faultsForm() {
  const form = h("form", { class: "card", id: "faults", "aria-labelledby": "ft-h" }, h("h2", { id: "ft-h" }, "Payment provider faults"),
    KNOBS.map(([name, label, step, max]) => [h("label", { for: `fault-${name}` }, label),
      h("input", { id: `fault-${name}`, name, type: "number", min: 0, max, step: "any", "data-step": step, required: true })]),
    h("button", { type: "submit" }, "Save faults"),
    h("button", { type: "button", class: "secondary", onclick: () => { for (const [n] of KNOBS) form[n].value = 0; form.requestSubmit(); } }, "All off"));
  const fill = (f) => { for (const [n] of KNOBS) form[n].value = f[n] ?? 0; };
  api("/admin/faults").then(fill).catch((e) => flash(`Faults unavailable: ${errorText(e)}`));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = Object.fromEntries(KNOBS.map(([n]) => [n, Number(form[n].value)]));
    try {
      const f = await api("/admin/faults", { method: "PUT", body });
      fill(f || body);
      flash("Faults saved.", "info");
      form.dataset.saved = JSON.stringify(body);
    } catch (e) {
      flash(`Saving faults failed: ${errorText(e)}`);
    }
  });
  return form;
}

function serviceTable(svcs) {
  const names = Object.keys(svcs).sort();
  if (!names.length) return h("p", {}, "unknown");
  return h("div", { class: "table-wrap" }, h("table", { class: "status stack" },
    h("thead", {}, h("tr", {}, ["Service", "Health", "Gateway breaker", "Its own breakers"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, names.map((n) => {
      const v = svcs[n] || {};
      return h("tr", { "data-service": n }, h("th", { scope: "row" }, n), h("td", { "data-label": "Health" }, statusBadge(v.status || "unknown")),
        h("td", { "data-label": "Gateway breaker" }, breakerText(v.breaker)), h("td", { "data-label": "Its own breakers" }, ownBreakers(v.breakers)));
    }))));
}

function breakerText(b) {
  if (!b || !b.state) return statusBadge("unknown");
  const c = b.counts;
  return h("span", {}, statusBadge(b.state), c ? ` ${c.consecutive_failures ?? 0} failing in a row, ${b.transition_count ?? 0} transitions` : "");
}

// ownBreakers shows what payment/notify say of their own breakers, whose
// shape is theirs: one breaker, or several by name.
function ownBreakers(b) {
  if (!b || typeof b !== "object") return h("span", { class: "hint" }, "–");
  if (b.state) return breakerText(b);
  const named = Object.entries(b).filter(([, v]) => v && typeof v === "object" && v.state);
  return named.length ? h("span", {}, named.map(([k, v]) => h("span", { class: "pair" }, `${k}: `, breakerText(v)))) : h("code", {}, JSON.stringify(b).slice(0, 120));
}

function unknown(part, fallback) {
  return h("p", { class: "hint" }, statusBadge("unknown"), ` ${part?.detail || fallback}`);
}

// lagView draws {service: {projection: {events, seconds, checkpoint,
// head, error}}}; a service that could not be asked is {status, detail}.
function lagView(p) {
  const services = Object.entries(p || {}).sort(([a], [b]) => a.localeCompare(b));
  if (!services.length) return unknown(null, "no service reported its projections");
  const rows = [];
  for (const [service, projs] of services) {
    if (!projs || projs.status === "unknown") {
      rows.push(h("li", { "data-projection": `${service}/?` }, h("strong", {}, service), " ", statusBadge("unknown"), ` ${projs?.detail || ""}`));
      continue;
    }
    for (const [name, lag] of Object.entries(projs).sort(([a], [b]) => a.localeCompare(b))) {
      const text = lag.error ? `not measured: ${lag.error}`
        : lag.events === 0 ? "caught up"
        : `${lag.events >= 10000 ? "10000+" : lag.events} events behind, oldest ${lag.seconds.toFixed(1)} s`;
      rows.push(h("li", { "data-projection": `${service}/${name}`, "data-behind": String(lag.events ?? "") },
        h("strong", {}, `${service} · ${name}`), " ", text));
    }
  }
  return h("ul", { class: "lags" }, rows);
}

// outcomeCounts finds {outcome: count} in the status's saga part, if any.
function outcomeCounts(p) {
  if (!p || p.status === "unknown") return null;
  for (const c of [p.by_outcome, p.counts, p.outcomes, p]) {
    if (c && typeof c === "object") {
      const nums = Object.entries(c).filter(([, v]) => typeof v === "number");
      if (nums.length) return Object.fromEntries(nums);
    }
  }
  return null;
}

const COLORS = { confirmed: "#1f7a4d", completed: "#1f7a4d", cancelled: "#b3261e", compensated: "#b3261e", pending: "#9a6700", running: "#9a6700" };

const colour = (k, j) => COLORS[k] || ["#3559c7", "#7b3fb3", "#00838f"][j % 3];

// sagaChart draws each outcome's count across this page's samples.
function sagaChart(samples) {
  const W = 420, H = 160, P = 30;
  const keys = [...new Set(samples.flatMap((x) => Object.keys(x.counts)))].sort();
  const max = Math.max(1, ...samples.flatMap((x) => Object.values(x.counts)));
  const px = (i) => P + (samples.length < 2 ? 0 : (i * (W - 2 * P)) / (samples.length - 1));
  const py = (v) => H - P - (v * (H - 2 * P)) / max;
  const last = samples.at(-1).counts;
  return h("div", {},
    s("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `Saga outcomes: ${keys.map((k) => `${k} ${last[k] ?? 0}`).join(", ")}` },
      s("line", { x1: P, y1: H - P, x2: W - P, y2: H - P, class: "axis" }), s("line", { x1: P, y1: P, x2: P, y2: H - P, class: "axis" }),
      s("text", { x: P - 4, y: P + 4, "text-anchor": "end", class: "tick" }, String(max)), s("text", { x: P - 4, y: H - P, "text-anchor": "end", class: "tick" }, "0"),
      s("text", { x: W - P, y: H - 8, "text-anchor": "end", class: "tick" }, "now →"),
      keys.map((k, j) => s("polyline", { points: samples.map((x, i) => `${px(i)},${py(x.counts[k] ?? 0)}`).join(" "),
        fill: "none", stroke: colour(k, j), "stroke-width": 2 }))),
    h("ul", { class: "chart-legend" }, keys.map((k, j) => h("li", {}, s("svg", { width: 12, height: 12, "aria-hidden": "true" }, s("rect", { width: 12, height: 12, fill: colour(k, j) })), `${k}: ${last[k] ?? 0}`))));
}
