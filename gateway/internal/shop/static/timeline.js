// The order's timeline as a picture: one lane per service, the events left
// to right in the order they happened, compensations marked in red.
import { h, s, time } from "./api.js";

export const LANES = ["order", "inventory", "payment", "notify", "saga"];

// Which service wrote an event, by its type's prefix (or its stream's).
const PREFIX = { order: "order", stock: "inventory", product: "inventory", reservation: "inventory",
  payment: "payment", refund: "payment", notification: "notify", email: "notify", fulfilment: "saga", saga: "saga" };

export function laneOf(ev) {
  for (const name of [ev.type, ev.stream]) {
    const lane = PREFIX[String(name || "").split(/[.\-:_]/)[0]];
    if (lane) return lane;
  }
  return "other";
}

// Compensations undo an earlier step: release, refund, cancel. An email
// telling of a cancellation is not one.
export const isCompensation = (ev) => laneOf(ev) !== "notify" && /releas|refund|cancel|compensat|expired/.test(ev.type || "");

const STEP = 100, LEFT = 120, TOP = 44, LANE = 60;

// drawTimeline returns an <svg> (and a table for screen readers) for events.
export function drawTimeline(events, caption) {
  const lanes = [...LANES, ...(events.some((e) => laneOf(e) === "other") ? ["other"] : [])];
  const width = LEFT + Math.max(events.length, 4) * STEP + 40;
  const height = TOP + lanes.length * LANE + 10;
  const x = (i) => LEFT + 30 + i * STEP;
  const y = (lane) => TOP + lanes.indexOf(lane) * LANE + LANE / 2;
  const svg = s("svg", { class: "timeline", viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": caption },
    s("title", {}, caption),
    legend(),
    lanes.map((l, i) => s("g", { class: "lane" },
      s("rect", { x: 0, y: TOP + i * LANE, width, height: LANE, class: i % 2 ? "band odd" : "band" }),
      s("text", { x: 10, y: TOP + i * LANE + LANE / 2 + 4, class: "lane-name" }, l === "saga" ? "fulfilment (saga)" : l))),
    s("polyline", { class: "flow", points: events.map((e, i) => `${x(i)},${y(laneOf(e))}`).join(" ") }),
    events.map((e, i) => eventMark(e, i, x(i), y(laneOf(e)))));
  return h("div", {},
    h("div", { class: "timeline-wrap" }, svg),
    h("details", {}, h("summary", {}, "The events as a table"), eventTable(events)));
}

function eventMark(e, i, cx, cy) {
  const comp = isCompensation(e);
  const label = (comp ? "↺ " : "") + String(e.type || "?").replace(/^[^.]*\./, "");
  const below = i % 2 === 0;
  return s("g", { class: comp ? "event compensation" : "event", "data-type": e.type },
    s("title", {}, `${i + 1}. ${e.type}\n${time(e.at)}${e.position ? `\nposition ${e.position}` : ""}${e.stream ? `\nstream ${e.stream}` : ""}`),
    comp ? s("circle", { cx, cy, r: 14, class: "ring" }) : null,
    s("circle", { cx, cy, r: 8, class: "dot" }),
    s("text", { x: cx, y: below ? cy + 24 : cy - 16, "text-anchor": "middle", class: "label" }, label));
}

function legend() {
  return s("g", { class: "legend", transform: "translate(10,18)" },
    s("circle", { cx: 6, cy: 0, r: 6, class: "dot" }), s("text", { x: 18, y: 4 }, "event"),
    s("circle", { cx: 86, cy: 0, r: 6, class: "dot comp" }), s("circle", { cx: 86, cy: 0, r: 10, class: "ring" }),
    s("text", { x: 102, y: 4 }, "compensation (release, refund, cancel)"),
    s("text", { x: 380, y: 4, class: "hint" }, "time →"));
}

function eventTable(events) {
  return h("table", { class: "events" },
    h("thead", {}, h("tr", {}, ["#", "At", "Service", "Event", "Position"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, events.map((e, i) => h("tr", { class: isCompensation(e) ? "compensation" : "" },
      h("td", {}, String(i + 1)), h("td", {}, time(e.at)), h("td", {}, laneOf(e)),
      h("td", {}, e.type, isCompensation(e) ? " (compensation)" : ""), h("td", {}, e.position || "–")))));
}
