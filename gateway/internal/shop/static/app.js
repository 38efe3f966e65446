// The shop's router and customer pages: login, catalog with cart, my
// orders, one order. Each page is a function that renders into <main> and
// may return a stop function (its polling timer).
import { api, session, uuid, h, money, time, statusBadge, positions, readFresh } from "./api.js";
import { flash, errorText, poll } from "./ui.js";
import { orderPage } from "./order.js";
import { adminPage } from "./admin.js";

const view = document.getElementById("view");
let stopPage = null;

const routes = [
  [/^#\/login$/, loginPage],
  [/^#\/orders$/, ordersPage, true],
  [/^#\/orders\/([^/]+)$/, orderPage, true],
  [/^#\/admin$/, adminPage, true],
  [/^(#\/?)?$/, catalogPage],
];

function route() {
  if (stopPage) stopPage();
  stopPage = null;
  flash("");
  const hash = location.hash;
  const [re, page, authed] = routes.find(([re]) => re.test(hash)) || routes.at(-1);
  if (authed && !session.user()) {
    sessionStorage.setItem("ordo.after", hash);
    location.hash = "#/login";
    return;
  }
  header();
  view.replaceChildren();
  stopPage = page(view, ...(hash.match(re) || []).slice(1).map(decodeURIComponent)) || null;
  view.focus({ preventScroll: true });
}

function header() {
  const u = session.user();
  document.getElementById("who").textContent = u ? `${u.name} (${u.role})` : "";
  document.getElementById("logout").hidden = !u;
  document.querySelector('[data-nav="admin"]').hidden = u?.role !== "admin";
  for (const a of document.querySelectorAll("nav a")) {
    const here = location.hash.startsWith(a.getAttribute("href")) && (a.getAttribute("href") !== "#/" || /^(#\/?)?$/.test(location.hash));
    if (here) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
}

function loginPage(root) {
  const form = h("form", { class: "card narrow", "aria-labelledby": "login-h" },
    h("h1", { id: "login-h" }, "Log in"),
    h("p", { class: "hint" }, "Demo users: alice, bob (customers) and admin — password demo."),
    h("label", { for: "username" }, "User name"),
    h("input", { id: "username", name: "username", autocomplete: "username", required: true }),
    h("label", { for: "password" }, "Password"),
    h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true }),
    h("button", { type: "submit", id: "login-submit" }, "Log in"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const r = await api("/auth/login", { method: "POST", body: { username: form.username.value, password: form.password.value } });
      session.set(r.access_token);
      const after = sessionStorage.getItem("ordo.after");
      sessionStorage.removeItem("ordo.after");
      location.hash = after || (session.user()?.role === "admin" ? "#/admin" : "#/");
    } catch (e) {
      flash(errorText(e));
    }
  });
  root.append(form);
}

// The cart lives in sessionStorage: sku → quantity.
const cart = {
  get: () => JSON.parse(sessionStorage.getItem("ordo.cart") || "{}"),
  put(c) { sessionStorage.setItem("ordo.cart", JSON.stringify(c)); },
  add(sku, n) { const c = this.get(); c[sku] = Math.max(0, (c[sku] || 0) + n); if (!c[sku]) delete c[sku]; this.put(c); },
};

function catalogPage(root) {
  const grid = h("ul", { class: "products", "aria-label": "Products" });
  const cartBox = h("section", { class: "card cart", "aria-labelledby": "cart-h" });
  // On a phone the cart comes after the whole catalog: a button takes the
  // customer (and the keyboard focus) there.
  const toCart = h("button", { type: "button", class: "secondary to-cart", onclick: () => { cartBox.scrollIntoView(); cartBox.focus(); } }, "Go to cart");
  cartBox.setAttribute("tabindex", "-1");
  root.append(h("div", { class: "shop" }, h("section", { "aria-labelledby": "cat-h" },
    h("div", { class: "cat-head" }, h("h1", { id: "cat-h" }, "Catalog"), toCart), grid), cartBox));
  let products = [];
  let shown = "";
  // Each poll redraws only what changed: a redraw would take the keyboard
  // focus away from the button the customer is on.
  const load = async () => {
    const next = (await readFresh("/products", positions.last())).items || [];
    const key = JSON.stringify(next);
    if (key === shown) return;
    shown = key;
    products = next;
    drawProducts();
    drawCart();
  };
  const drawProducts = () => grid.replaceChildren(...products.map((p) => h("li", { class: "product card", "data-sku": p.sku },
    h("h2", {}, p.name), h("p", { class: "sku" }, p.sku),
    h("p", { class: "price" }, money(p.price)),
    h("p", { class: `stock${p.available > 0 ? "" : " out"}`, "data-available": p.available }, p.available > 0 ? `${p.available} in stock` : "out of stock"),
    h("button", { type: "button", "aria-label": `Add ${p.name} to cart`, disabled: p.available <= 0, onclick: () => { cart.add(p.sku, 1); drawCart(); } }, "Add to cart"))));
  const drawCart = () => {
    const c = cart.get();
    const lines = Object.entries(c).map(([sku, q]) => ({ sku, q, p: products.find((x) => x.sku === sku) }));
    const total = lines.reduce((t, l) => t + (l.p ? l.p.price.amount * l.q : 0), 0);
    const cur = lines.find((l) => l.p)?.p.price.currency || "EUR";
    const count = lines.reduce((n, l) => n + l.q, 0);
    toCart.textContent = count ? `Go to cart (${count})` : "Go to cart";
    cartBox.replaceChildren(h("h2", { id: "cart-h" }, "Cart"),
      lines.length === 0 ? h("p", { class: "hint" }, "Your cart is empty.") : h("ul", { class: "cart-lines" }, lines.map((l) => h("li", {},
        h("span", {}, l.p ? l.p.name : l.sku), h("span", { class: "qty" },
          h("button", { type: "button", class: "small", "aria-label": `One fewer ${l.sku}`, onclick: () => { cart.add(l.sku, -1); drawCart(); } }, "−"),
          h("output", { "aria-label": `Quantity of ${l.sku}` }, String(l.q)),
          h("button", { type: "button", class: "small", "aria-label": `One more ${l.sku}`, onclick: () => { cart.add(l.sku, 1); drawCart(); } }, "+"))))),
      lines.length ? h("p", { class: "total" }, "Total ", h("strong", {}, money({ amount: total, currency: cur }))) : "",
      h("button", { type: "button", id: "checkout", disabled: !lines.length, onclick: checkout }, session.user() ? "Place order" : "Log in to order"));
  };
  const checkout = async () => {
    if (!session.user()) { sessionStorage.setItem("ordo.after", "#/"); location.hash = "#/login"; return; }
    const body = { lines: Object.entries(cart.get()).map(([sku, quantity]) => ({ sku, quantity })) };
    // A retry of the same cart (after a timeout or 409) reuses its key, so
    // the gateway replays the first answer instead of ordering twice.
    const prev = JSON.parse(sessionStorage.getItem("ordo.checkout") || "null");
    const key = prev && JSON.stringify(prev.body) === JSON.stringify(body) ? prev.key : uuid();
    sessionStorage.setItem("ordo.checkout", JSON.stringify({ key, body }));
    const btn = document.getElementById("checkout");
    btn.disabled = true;
    btn.textContent = "Placing…";
    try {
      const r = await api("/orders", { method: "POST", body, headers: { "Idempotency-Key": key } });
      sessionStorage.removeItem("ordo.checkout");
      cart.put({});
      positions.set(r.id, r.position);
      positions.setLast(r.position);
      location.hash = `#/orders/${encodeURIComponent(r.id)}`;
    } catch (e) {
      if (e.status && e.status < 500 && e.status !== 409 && e.status !== 429) sessionStorage.removeItem("ordo.checkout");
      flash(`Checkout failed: ${errorText(e)}`);
      drawCart();
    }
  };
  return poll(load, 4000);
}

function ordersPage(root) {
  const body = h("tbody");
  root.append(h("h1", {}, "My orders"), h("div", { class: "table-wrap" }, h("table", { class: "orders stack" },
    h("caption", { class: "hint" }, "Statuses update by themselves."),
    h("thead", {}, h("tr", {}, ["Order", "Placed", "Items", "Total", "Status"].map((t) => h("th", { scope: "col" }, t)))), body)));
  let shown = "";
  return poll(async () => {
    const page = await readFresh("/orders?limit=50", positions.last());
    const items = page.items || [];
    const key = JSON.stringify(items);
    if (key === shown) return; // keeps the focus on a link across polls
    shown = key;
    // data-label names each cell where a narrow screen stacks the rows.
    body.replaceChildren(...(items.length ? items.map((o) => h("tr", { "data-order": o.id },
      h("td", { "data-label": "Order" }, h("a", { href: `#/orders/${encodeURIComponent(o.id)}`, "aria-label": `Order ${o.id}` }, o.id.slice(0, 8))),
      h("td", { "data-label": "Placed" }, time(o.placed_at)),
      h("td", { "data-label": "Items" }, o.lines.map((l) => `${l.quantity}× ${l.sku}`).join(", ")),
      h("td", { "data-label": "Total" }, money(o.total)),
      h("td", { "data-label": "Status" }, statusBadge(o.status), o.reason ? h("span", { class: "reason" }, ` ${o.reason}`) : null))) : [h("tr", {}, h("td", { colspan: 5 }, "No orders yet."))]));
  }, 2000);
}

document.getElementById("logout").addEventListener("click", () => {
  session.clear();
  sessionStorage.clear();
  location.hash = "#/login";
});
window.addEventListener("hashchange", route);
route();
