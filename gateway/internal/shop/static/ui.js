// Page plumbing shared by every page: the message box and polling.
import { ApiError, h } from "./api.js";

const flashBox = document.getElementById("flash");

// flash shows a message (an API error's detail above all) until the next
// one, and returns its element.
export function flash(msg, kind = "error") {
  const p = msg ? h("p", { class: `flash ${kind}` }, msg, " ", h("button", { type: "button", class: "link", onclick: () => flash("") }, "Dismiss")) : null;
  flashBox.replaceChildren(p || "");
  return p;
}

export const errorText = (e) => (e instanceof ApiError ? `${e.message}${e.status ? ` (HTTP ${e.status})` : ""}` : String(e));

// poll runs fn now and every ms until the page changes. A failure is
// shown, and taken down again by the next success.
export function poll(fn, ms) {
  let live = true, timer, shown = null;
  const tick = async () => {
    try {
      await fn();
      if (shown?.isConnected) flash("");
      shown = null;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) { location.hash = "#/login"; return; }
      if (live) shown = flash(errorText(e));
    }
    if (live) timer = setTimeout(tick, ms);
  };
  tick();
  return () => { live = false; clearTimeout(timer); };
}
