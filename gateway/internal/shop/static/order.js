// One order: its status (updating by itself), lines, payment, emails, a
// cancel button while pending, and the timeline picture.
import { api, h, money, time, statusBadge, positions, readFresh } from "./api.js";
import { flash, errorText, poll } from "./ui.js";
import { drawTimeline } from "./timeline.js";

const FINAL = ["confirmed", "cancelled"];

export function orderPage(root, id) {
  const head = h("div", { class: "order-head" });
  const details = h("div", { class: "order-details" });
  const picture = h("section", { class: "card", "aria-labelledby": "tl-h" }, h("h2", { id: "tl-h" }, "Timeline"));
  const pictureBody = h("div", {}, h("p", { class: "hint" }, "Loading…"));
  picture.append(pictureBody);
  root.append(h("p", {}, h("a", { href: "#/orders" }, "← My orders")), head, details, picture);
  let noTimeline = null; // the answer that said the endpoint is missing
  let lastDrawn = "";
  let stop = () => {};
  const load = async () => {
    let o;
    try {
      o = await readFresh(`/orders/${encodeURIComponent(id)}`, positions.get(id));
    } catch (e) {
      if (e.status !== 404) throw e;
      stop();
      root.replaceChildren(h("section", { class: "card narrow", id: "not-found" }, h("h1", {}, "Order not found"),
        h("p", {}, `There is no order ${id} among your orders.`), h("p", {}, h("a", { href: "#/orders" }, "See my orders"))));
      return;
    }
    remember(o);
    drawHead(head, o, id, () => load().catch((e) => flash(errorText(e))));
    drawDetails(details, o);
    const drawn = await timelineOf(o);
    const key = JSON.stringify(drawn);
    if (key !== lastDrawn) { // redraw only on change, so an open <details> stays open
      lastDrawn = key;
      pictureBody.replaceChildren(...drawn.nodes());
      showCompensation(pictureBody);
    }
  };
  // timelineOf asks the gateway for the order's events; 501 (the gateway
  // does not serve them) is remembered, 404 (the saga has not seen the
  // order yet) only falls back this once.
  const timelineOf = async (o) => {
    let missing = noTimeline;
    if (!missing) {
      try {
        const t = await api(`/orders/${encodeURIComponent(id)}/timeline`);
        const events = t.events || [];
        return { events, nodes: () => [drawTimeline(events, `Timeline of order ${id}: ${events.length} events`, "events")] };
      } catch (e) {
        if (e.status !== 501 && e.status !== 404) throw e;
        missing = e;
        if (e.status === 501) noTimeline = e;
      }
    }
    const events = derived(o);
    return { events, history: history(id), nodes: () => [
      h("p", { class: "note", id: "timeline-note" }, `The event timeline is not available from the gateway yet (${missing.message}, HTTP ${missing.status}). `,
        "Below: what the order view itself shows, and the status changes this page has seen."),
      drawTimeline(events, `Order ${id} as its view shows it`, "view"),
      h("h3", {}, "Status history"),
      h("ol", { class: "history" }, history(id).map((x) => h("li", {}, statusBadge(x.status), x.reason ? ` ${x.reason}` : "", ` — ${time(x.at)}`)))] };
  };
  stop = poll(load, 2000);
  return () => stop();
}

function drawHead(el, o, id, reload) {
  const cancel = o.status === "pending" && !o.cancellation_requested ? h("button", { type: "button", class: "secondary", id: "cancel", onclick: async (ev) => {
    ev.target.disabled = true;
    try {
      const r = await api(`/orders/${encodeURIComponent(id)}/cancel`, { method: "POST" });
      positions.set(id, r?.position);
      flash("Cancellation requested.", "info");
      reload();
    } catch (e) {
      flash(`Cancel failed: ${errorText(e)}`);
      ev.target.disabled = false;
    }
  } }, "Cancel order") : null;
  el.replaceChildren(h("h1", {}, "Order ", h("code", { class: "id" }, o.id)),
    h("p", { class: "status-line" }, "Status: ", h("span", { id: "order-status", "data-status": o.status }, statusBadge(o.status)),
      o.reason ? h("span", { class: "reason", id: "order-reason" }, ` reason: ${o.reason}`) : null,
      o.cancellation_requested && o.status === "pending" ? h("span", { class: "hint" }, " cancellation requested") : null,
      FINAL.includes(o.status) ? null : h("span", { class: "hint" }, " — updating by itself…"), " ", cancel));
}

function drawDetails(el, o) {
  const pay = o.payment;
  el.replaceChildren(h("section", { class: "card" }, h("h2", {}, "Items"),
    h("div", { class: "table-wrap" }, h("table", {}, h("thead", {}, h("tr", {}, ["Product", "Quantity", "Unit price"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, o.lines.map((l) => h("tr", {}, h("td", {}, l.sku), h("td", {}, String(l.quantity)), h("td", {}, money(l.unit_price))))))),
    h("p", { class: "total" }, "Total ", h("strong", {}, money(o.total))),
    h("p", {}, "Placed ", time(o.placed_at), " · updated ", time(o.updated_at))),
  h("section", { class: "card" }, h("h2", {}, "Payment and emails"),
    h("p", {}, "Payment: ", pay ? statusBadge(pay.status) : h("span", { class: "hint" }, "none yet")),
    h("p", {}, "Emails: ", o.notifications.length ? o.notifications.map((n) => `${n.kind} (${n.sent_at ? time(n.sent_at) : n.status || "pending"})`).join(", ") : h("span", { class: "hint" }, "none yet")),
    o.degraded?.length ? h("p", { class: "note" }, `Partly unavailable right now: ${o.degraded.join(", ")}${o.stale?.length ? ` (showing the last known ${o.stale.join(", ")})` : ""}.`) : null));
}

// history keeps the status changes this browser has seen, per order.
const history = (id) => JSON.parse(sessionStorage.getItem(`ordo.hist.${id}`) || "[]");

function remember(o) {
  const hist = history(o.id);
  if (!hist.length) hist.push({ status: "pending", at: o.placed_at });
  const last = hist.at(-1);
  if (last.status !== o.status || (last.reason || "") !== (o.reason || "")) hist.push({ status: o.status, reason: o.reason, at: o.updated_at });
  sessionStorage.setItem(`ordo.hist.${o.id}`, JSON.stringify(hist));
}

// derived rebuilds a coarse timeline from the order view alone.
function derived(o) {
  const ev = [{ type: "order.placed", at: o.placed_at }];
  if (o.payment && o.payment.status !== "pending") ev.push({ type: `payment.${o.payment.status}`, at: o.payment.updated_at || o.updated_at });
  if (FINAL.includes(o.status)) ev.push({ type: `order.${o.status}`, at: o.updated_at });
  for (const n of o.notifications || []) if (n.sent_at) ev.push({ type: `notification.${n.kind}`, at: n.sent_at });
  return ev.sort((a, b) => new Date(a.at) - new Date(b.at));
}

// showCompensation scrolls a long timeline to its first compensation, the
// part worth seeing first, leaving a little of what led to it in view.
function showCompensation(el) {
  const wrap = el.querySelector(".timeline-wrap");
  const dot = el.querySelector(".event.compensation .dot");
  if (!wrap || !dot || wrap.scrollWidth <= wrap.clientWidth) return;
  const svg = wrap.querySelector("svg");
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width || 1;
  wrap.scrollLeft = Math.max(0, Number(dot.getAttribute("cx")) * scale - wrap.clientWidth / 3);
}
