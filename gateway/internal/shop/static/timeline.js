// The order's timeline as a picture: one lane per service, the events left
// to right in the order they happened, compensations marked in red.
//
// The events come from GET /api/v1/orders/{id}/timeline, which answers
// {"events":[{position, stream, type, at, correlation_id, causation_id, data}]}
// in global order. The stream says which service wrote an event (its
// category, the part before the first "-": order-<id>, stock-<sku>,
// payment-<id>, notification-<id>:<kind>, fulfilment-<id>); the fallback
// built from the order view has no stream, so its type's prefix decides.
import { h, s, time } from "./api.js";

export const LANES = ["order", "inventory", "payment", "notify", "saga"];

// Which service owns a stream category (or, without a stream, a type prefix).
const OWNER = { order: "order", stock: "inventory", product: "inventory",
  payment: "payment", notification: "notify", fulfilment: "saga" };

const LANE_NAMES = { saga: "fulfilment (saga)" };

export function laneOf(ev) {
  if (ev.stream) return OWNER[String(ev.stream).split("-")[0]] || "other";
  return OWNER[String(ev.type || "").split(".")[0]] || "other";
}

// Compensations undo an earlier step: the stock is released, the payment
// refunded or voided, the order cancelled, and the saga's own records of
// deciding to do so. An email telling of a cancellation is not one, nor is
// the customer's request to cancel.
const COMPENSATIONS = new Set(["stock.released", "stock.reservation_expired", "payment.refunded", "payment.cancelled",
  "order.cancelled", "fulfilment.compensating", "fulfilment.release_requested", "fulfilment.refund_requested",
  "fulfilment.stock_released", "fulfilment.payment_refunded"]);

export const isCompensation = (ev) => COMPENSATIONS.has(ev.type);

const STEP = 88, NAMES = 124, TOP = 8, LANE = 60, PAD = 40;

// drawTimeline returns the picture (and a table for screen readers) for
// events; source says where they came from ("events" or "view"), for tests
// and CSS. The lane names stay put while the events scroll sideways.
export function drawTimeline(events, caption, source = "events") {
  const used = new Set(events.map(laneOf));
  const lanes = [...LANES, ...(used.has("other") ? ["other"] : [])];
  const width = PAD + Math.max(events.length, 4) * STEP;
  const height = TOP + lanes.length * LANE + 10;
  const x = (i) => PAD + i * STEP;
  const y = (lane) => TOP + lanes.indexOf(lane) * LANE + LANE / 2;
  const bands = (w) => lanes.map((l, i) => s("rect", { x: 0, y: TOP + i * LANE, width: w, height: LANE, class: i % 2 ? "band odd" : "band" }));
  const names = s("svg", { class: "timeline-lanes", viewBox: `0 0 ${NAMES} ${height}`, width: NAMES, height, "aria-hidden": "true" },
    bands(NAMES), lanes.map((l, i) => s("text", { x: 10, y: TOP + i * LANE + LANE / 2 + 4, class: "lane-name", "data-lane": l }, LANE_NAMES[l] || l)));
  const svg = s("svg", { class: "timeline", viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": caption,
    "data-source": source, "data-events": events.length },
    s("title", {}, caption),
    bands(width).map((band, i) => s("g", { class: "lane", "data-lane": lanes[i] }, band)),
    s("polyline", { class: "flow", points: events.map((e, i) => `${x(i)},${y(laneOf(e))}`).join(" ") }),
    events.map((e, i) => eventMark(e, i, x(i), y(laneOf(e)))));
  return h("div", {},
    legend(),
    h("div", { class: "timeline-frame" }, names,
      h("div", { class: "timeline-wrap", tabindex: 0, role: "region", "aria-label": "Timeline picture (scrolls sideways)" }, svg)),
    h("details", {}, h("summary", {}, "The events as a table"), h("div", { class: "table-wrap" }, eventTable(events))));
}

// short is the type without its prefix: the lane already says whose it is.
const short = (e) => String(e.type || "?").replace(/^[^.]*\./, "");

function eventMark(e, i, cx, cy) {
  const comp = isCompensation(e);
  const below = i % 2 === 0;
  return s("g", { class: comp ? "event compensation" : "event", "data-type": e.type, "data-lane": laneOf(e), "data-position": e.position },
    s("title", {}, tooltip(e, i)),
    comp ? s("circle", { cx, cy, r: 14, class: "ring" }) : null,
    s("circle", { cx, cy, r: 8, class: "dot" }),
    s("text", { x: cx, y: below ? cy + 24 : cy - 16, "text-anchor": "middle", class: "label" }, (comp ? "↺ " : "") + short(e)));
}

function tooltip(e, i) {
  const lines = [`${i + 1}. ${e.type}${isCompensation(e) ? " (compensation)" : ""}`, time(e.at)];
  if (e.stream) lines.push(`stream ${e.stream}`);
  if (e.position) lines.push(`position ${e.position}`);
  if (e.causation_id) lines.push(`caused by ${e.causation_id}`);
  const d = e.data && typeof e.data === "object" ? JSON.stringify(e.data) : "";
  if (d && d !== "{}") lines.push(d.length > 160 ? `${d.slice(0, 157)}…` : d);
  return lines.join("\n");
}

function legend() {
  const icon = (comp) => s("svg", { width: 22, height: 22, viewBox: "-11 -11 22 22", "aria-hidden": "true" },
    comp ? s("circle", { r: 9, class: "ring" }) : null, s("circle", { r: 6, class: comp ? "dot comp" : "dot" }));
  return h("p", { class: "legend" }, h("span", {}, icon(false), "event"),
    h("span", {}, icon(true), "compensation (release, refund, cancel)"), h("span", { class: "hint" }, "time →"));
}

function eventTable(events) {
  return h("table", { class: "events" },
    h("thead", {}, h("tr", {}, ["#", "At", "Service", "Event", "Stream", "Position"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, events.map((e, i) => h("tr", { class: isCompensation(e) ? "compensation" : "" },
      h("td", {}, String(i + 1)), h("td", {}, time(e.at)), h("td", {}, laneOf(e)),
      h("td", {}, e.type, isCompensation(e) ? " (compensation)" : ""), h("td", {}, e.stream || "–"), h("td", {}, e.position || "–")))));
}
