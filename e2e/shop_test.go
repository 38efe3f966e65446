package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ordo-platform/ordo/launcher"
	"github.com/ordo-platform/ordo/pkg/testenv"
)

// shopRun is the platform and the browser one TestShop shares.
type shopRun struct {
	p       *launcher.Platform
	browser context.Context
	shots   string
	saga    bool // the order service runs the fulfilment saga
}

// required are the binaries without which the shop cannot work at all.
var required = []string{"gateway", "order", "inventory", "payment", "notify", "provider-sim"}

func startShop(t *testing.T) *shopRun {
	t.Helper()
	root, err := launcher.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	shots := filepath.Join(root, "tmp", "screenshots")
	if err := os.MkdirAll(shots, 0o755); err != nil { //nolint:gosec // scratch output
		t.Fatal(err)
	}
	browser := newBrowser(t) // first: a missing browser fails before the long build
	ports, err := launcher.FreePorts()
	if err != nil {
		t.Fatal(err)
	}
	_, prefix := testenv.Redis(t)
	smtp, mailAPI := testenv.Mailpit(t)
	out := &syncBuffer{}
	p, err := launcher.Start(t.Context(), launcher.Config{
		Root: root, BinDir: t.TempDir(), SkipBroken: true, Ports: ports, DatabaseURL: testenv.Database(t),
		RedisPrefix: prefix, MailpitSMTP: smtp, MailpitAPI: mailAPI, Output: out,
		ReadyTimeout: 3 * time.Minute, StopTimeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatalf("start the platform: %v\noutput:\n%s", err, out)
	}
	t.Cleanup(func() {
		if err := p.Stop(context.WithoutCancel(t.Context())); err != nil {
			t.Errorf("stop: %v", err)
		}
		if t.Failed() {
			t.Logf("platform output:\n%s", out)
		}
	})
	for _, name := range required {
		if why, skipped := p.Skipped[name]; skipped {
			t.Fatalf("%s did not start: %s", name, why)
		}
	}
	return &shopRun{p: p, browser: browser, shots: shots, saga: sagaWired(t, root)}
}

// sagaWired reports whether the order binary runs the fulfilment saga:
// without it orders stay pending, and the tests say so instead of failing.
func sagaWired(t *testing.T, root string) bool {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(root, "services", "order", "cmd", "order", "*.go"))
	for _, f := range files {
		b, err := os.ReadFile(f) //nolint:gosec // our own source
		if err == nil && !strings.HasSuffix(f, "_test.go") && strings.Contains(string(b), "services/order/internal/saga\"") {
			return true
		}
	}
	return false
}

// TestShop drives the demo shop in Chromium: a customer buys, an operator
// makes the payment provider decline, another customer cannot see the
// first one's order.
func TestShop(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the whole platform and a browser")
	}
	run := startShop(t)
	if !run.saga {
		t.Log("GAP: the order service does not run the saga yet; orders are expected to stay pending")
	}
	var aliceOrder string
	t.Run("alice buys and sees her order", func(t *testing.T) { aliceOrder = run.buyAndSee(t) })
	t.Run("declined payment cancels the order and restores stock", run.declined)
	t.Run("bob cannot open alice's order", func(t *testing.T) {
		if aliceOrder == "" {
			t.Skip("no order from the first scenario")
		}
		run.othersOrder(t, aliceOrder)
	})
	t.Run("the console watch catches errors", run.watchCatches)
	t.Run("a 360 px phone", run.phone)
	t.Run("keyboard only", run.keyboard)
}

// stocked picks a product with at least n available.
func (r *shopRun) stocked(t *testing.T, c *client, n int) product {
	t.Helper()
	var list struct {
		Items []product `json:"items"`
	}
	c.do(http.MethodGet, "/api/v1/products", nil, &list)
	for _, p := range list.Items {
		if p.Available >= n {
			return p
		}
	}
	t.Fatalf("no product with %d in stock: %+v", n, list.Items)
	return product{}
}

// buy adds one of sku to the cart, checks out and returns the new order's
// id once its page shows.
func (pg *page) buy(sku string) string {
	pg.t.Helper()
	btn := fmt.Sprintf(`li[data-sku=%q] button:not([disabled])`, sku)
	pg.run("buy "+sku, 20*time.Second,
		pg.goTo("#/"),
		chromedp.WaitVisible(chromedp.CSS(btn)),
		chromedp.Click(chromedp.CSS(btn)),
		chromedp.WaitEnabled(chromedp.CSS("#checkout")),
		chromedp.Click(chromedp.CSS("#checkout")),
		chromedp.WaitVisible(chromedp.CSS("#order-status")),
	)
	hash, _ := chromedp.Run(pg.ctx, chromedp.Evaluate[string](`location.hash`))
	id, err := orderIDFromHash(hash)
	if err != nil {
		pg.t.Fatal(err)
	}
	return id
}

// goTo changes the page's route in place, as the shop's own links do.
func (pg *page) goTo(hash string) chromedp.Action[chromedp.Void] {
	return js(fmt.Sprintf(`location.hash = %q`, hash))
}

var final = func(s string) bool { return s == "confirmed" || s == "cancelled" }

// settle waits for the order page's status to become final when the saga
// runs (or checks it stays pending when it does not) and returns it.
func (r *shopRun) settle(t *testing.T, pg *page) string {
	t.Helper()
	if !r.saga {
		st := pg.waitAttr("#order-status", "data-status", 3*time.Second, final)
		if st != "pending" {
			t.Errorf("without the saga the order should stay pending, shows %q", st)
		}
		return st
	}
	return pg.waitAttr("#order-status", "data-status", 25*time.Second, final)
}

func (r *shopRun) buyAndSee(t *testing.T) string {
	alice := apiClient(t, r.p.GatewayURL, "alice")
	prod := r.stocked(t, alice, 2)
	pg := r.newPage(t)
	pg.login("alice")
	pg.screenshot("a1-catalog")
	id := pg.buy(prod.SKU)
	st := r.settle(t, pg)
	if r.saga {
		if st != "confirmed" {
			t.Fatalf("order %s shows %q after 25s, want confirmed", id, st)
		}
		if got := alice.waitAvailable(prod.SKU, prod.Available-1, 5*time.Second); got != prod.Available-1 {
			t.Errorf("%s available %d after the order, want %d", prod.SKU, got, prod.Available-1)
		}
		if mails := waitMails(t, r.p.MailpitAPI, id, 15*time.Second); len(mails) == 0 {
			t.Errorf("no email about order %s in Mailpit", id)
		} else {
			t.Logf("emails about %s: %q", id, mails)
		}
	}
	pg.run("timeline drawn", 10*time.Second, chromedp.WaitVisible(chromedp.CSS("svg.timeline")))
	pg.screenshot("a2-order")
	r.timeline(t, pg, "alice", id, false, "a4-order-timeline")
	row := fmt.Sprintf(`tr[data-order=%q] .badge`, id)
	pg.run("my orders lists it", 10*time.Second, pg.goTo("#/orders"), chromedp.WaitVisible(chromedp.CSS(row)))
	if got := pg.waitAttr(row, "data-status", 5*time.Second, func(s string) bool { return s == st }); got != st {
		t.Errorf("my orders shows %s as %q, its page %q", id, got, st)
	}
	pg.screenshot("a3-my-orders")
	return id
}

func (r *shopRun) declined(t *testing.T) {
	admin := apiClient(t, r.p.GatewayURL, "admin")
	t.Cleanup(func() { admin.do(http.MethodPut, "/api/v1/admin/faults", faults{}, nil) })
	op := r.newPage(t)
	op.login("admin")
	op.run("set decline rate 1", 20*time.Second,
		op.goTo("#/admin"),
		chromedp.WaitVisible(chromedp.CSS("tr[data-service]")),
		chromedp.Poll[chromedp.Void](`((document.querySelector("#fault-decline_rate") || {}).value || "") !== ""`, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.SetValue(chromedp.CSS("#fault-decline_rate"), "1"),
		chromedp.Click(chromedp.CSS(`#faults button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#faults[data-saved]")),
	)
	op.screenshot("b1-operator")
	var lagRows []string
	op.run("projection lag is shown", 20*time.Second,
		chromedp.WaitVisible(chromedp.CSS(`li[data-projection="order/orders"]`)),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			var err error
			lagRows, err = chromedp.Evaluate[[]string](`[...document.querySelectorAll("li[data-projection]")].map((li) => li.dataset.projection)`)(ctx, tg)
			return err
		}))
	for _, want := range []string{"inventory/catalog", "notify/feed", "order/orders", "order/prices", "payment/payments"} {
		if !slices.Contains(lagRows, want) {
			t.Errorf("the operator page lists projection lag for %q, not for %s", lagRows, want)
		}
	}
	var f faults
	admin.do(http.MethodGet, "/api/v1/admin/faults", nil, &f)
	if f.DeclineRate != 1 {
		t.Fatalf("the faults page did not set decline_rate: %+v", f)
	}

	alice := apiClient(t, r.p.GatewayURL, "alice")
	prod := r.stocked(t, alice, 1)
	pg := r.newPage(t)
	pg.login("alice")
	id := pg.buy(prod.SKU)
	st := r.settle(t, pg)
	if r.saga {
		if st != "cancelled" {
			t.Fatalf("order %s shows %q, want cancelled", id, st)
		}
		if reason := pg.text("#order-reason"); !strings.Contains(reason, "payment_declined") {
			t.Errorf("order %s reason %q, want payment_declined", id, reason)
		}
		if got := alice.waitAvailable(prod.SKU, prod.Available, 10*time.Second); got != prod.Available {
			t.Errorf("%s available %d after the cancellation, want it restored to %d", prod.SKU, got, prod.Available)
		}
	}
	pg.run("timeline drawn", 10*time.Second, chromedp.WaitVisible(chromedp.CSS("svg.timeline")))
	pg.screenshot("b2-order-declined")
	r.timeline(t, pg, "alice", id, r.saga, "b3-order-declined-timeline")
}

// timeline checks both ways the order page shows its timeline, whatever
// the gateway answers to GET /api/v1/orders/{id}/timeline today: with 200
// the page must draw those very events (lanes by stream, compensations
// marked); with 501 it must show its fallback drawn from the order view.
// The answer the gateway does not give is played by the browser itself in
// a second tab (serveTimeline): for 200, the order service's own answer,
// or a sample of its shape when the service has none.
func (r *shopRun) timeline(t *testing.T, pg *page, user, id string, compensated bool, shot string) {
	t.Helper()
	status, body := apiClient(t, r.p.GatewayURL, user).get("/api/v1/orders/" + id + "/timeline")
	var events []timelineEvent
	switch status {
	case http.StatusOK:
		var b struct {
			Events []timelineEvent `json:"events"`
		}
		if err := json.Unmarshal(body, &b); err != nil {
			t.Fatalf("timeline: %v in %s", err, body)
		}
		events = b.Events
		fb := r.newPage(t)
		fb.login(user)
		fb.serveTimeline(id, http.StatusNotImplemented, gatewayWithoutTimeline)
		fb.run("open the order", 15*time.Second, fb.goTo("#/orders/"+id))
		fb.fallback()
		fb.screenshot(shot + "-fallback")
	case http.StatusNotImplemented:
		pg.fallback()
		var ok bool
		if events, ok = serviceTimeline(t, r.p.URLs["order"], id); !ok {
			t.Log("GAP: the order service serves no timeline; drawing a sample of its shape instead")
			events, compensated = sampleTimeline(id), true
		}
		pg = r.newPage(t)
		pg.login(user)
		pg.serveTimeline(id, http.StatusOK, timelineAnswer(t, events))
		pg.run("open the order", 15*time.Second, pg.goTo("#/orders/"+id))
	default:
		t.Fatalf("GET timeline: %d %s", status, body)
	}
	comps := pg.checkDrawn(events)
	pg.screenshot(shot)
	if compensated && comps == 0 {
		t.Errorf("the timeline of a compensated order marks no compensation: %d events", len(events))
	}
	t.Logf("timeline (gateway %d): %d events, %d compensations", status, len(events), comps)
}

// fallback checks the order page shows the timeline drawn from the order
// view, with the note saying why.
func (pg *page) fallback() {
	pg.t.Helper()
	pg.run("timeline fallback", 10*time.Second, chromedp.WaitVisible(chromedp.CSS("#timeline-note")),
		chromedp.WaitVisible(chromedp.CSS(`svg.timeline[data-source="view"]`)))
	if note := pg.text("#timeline-note"); !strings.Contains(note, "HTTP 501") {
		pg.t.Errorf("the fallback note says %q, want the 501", note)
	}
}

func (r *shopRun) othersOrder(t *testing.T, id string) {
	pg := r.newPage(t)
	pg.expect(`/api/v1/orders/`+regexp.QuoteMeta(id)+`(\?.*)?$`, http.StatusNotFound, "bob asks for alice's order on purpose")
	pg.login("bob")
	pg.run("open alice's order", 15*time.Second, pg.goTo("#/orders/"+id), chromedp.WaitVisible(chromedp.CSS("#not-found")))
	if got := pg.text("#order-status"); got != "" {
		t.Errorf("bob sees a status for alice's order: %q", got)
	}
	pg.screenshot("c-bob-not-found")
}

// watchCatches proves the console watch every tab has: it sees
// console.error, an uncaught exception and an HTTP error, and lets through
// only the HTTP error a test expects (then forgets them all, so this tab
// does not fail the test).
func (r *shopRun) watchCatches(t *testing.T) {
	pg := r.newPage(t)
	pg.expect(`/shop/expected-404$`, http.StatusNotFound, "this check")
	pg.run("cause errors", 15*time.Second, chromedp.Navigate(pg.base+"/"), chromedp.WaitVisible(chromedp.CSS("#view")),
		js(`console.error("watch-check error"); setTimeout(() => { throw new Error("watch-check exception"); });
			fetch("/shop/expected-404"); fetch("/shop/unexpected-404");`),
		chromedp.Sleep(time.Second))
	w := pg.console
	w.mu.Lock()
	seen := w.seen
	w.seen = nil
	w.mu.Unlock()
	var caught, passed []string
	for _, e := range seen {
		if _, ok := w.allowed(e); ok {
			passed = append(passed, e.url)
		} else {
			caught = append(caught, e.text+" "+e.url)
		}
	}
	all := strings.Join(caught, "\n")
	for _, want := range []string{"watch-check error", "watch-check exception", "/shop/unexpected-404"} {
		if !strings.Contains(all, want) {
			t.Errorf("the console watch missed %q; it caught %q", want, caught)
		}
	}
	if len(passed) != 1 || !strings.HasSuffix(passed[0], "/shop/expected-404") || len(caught) != 3 {
		t.Errorf("the console watch let %q pass and caught %q, want only expected-404 passed and 3 caught", passed, caught)
	}
}

// phoneWidth is the narrowest phone the shop supports. The emulation is
// not "mobile": a mobile layout viewport grows to the page's width, so an
// overflowing page would still have scrollWidth == innerWidth.
const phoneWidth = 360

// phone uses the shop in a 360×740 window, as on a small phone: every page
// must fit its width (nothing scrolls sideways but the boxes meant to).
func (r *shopRun) phone(t *testing.T) {
	alice := apiClient(t, r.p.GatewayURL, "alice")
	prod := r.stocked(t, alice, 1)
	pg := r.newPage(t)
	pg.run("360 px window", 5*time.Second, chromedp.EmulateViewport(phoneWidth, 740))
	pg.width = phoneWidth
	pg.login("alice")
	btn := fmt.Sprintf(`li[data-sku=%q] button:not([disabled])`, prod.SKU)
	pg.run("catalog", 15*time.Second, chromedp.WaitVisible(chromedp.CSS(btn)))
	pg.fits("catalog")
	pg.screenshot("p1-catalog-360")
	pg.run("add to cart, go to the cart", 10*time.Second, chromedp.Click(chromedp.CSS(btn)), chromedp.WaitEnabled(chromedp.CSS("#checkout")),
		chromedp.Click(chromedp.CSS(".to-cart")), chromedp.WaitVisible(chromedp.CSS("#checkout")))
	pg.fits("cart")
	pg.screenshot("p2-cart-360")
	pg.run("check out", 20*time.Second, chromedp.Click(chromedp.CSS("#checkout")), chromedp.WaitVisible(chromedp.CSS("#order-status")),
		chromedp.WaitVisible(chromedp.CSS("svg.timeline")))
	hash, _ := chromedp.Run(pg.ctx, chromedp.Evaluate[string](`location.hash`))
	id, err := orderIDFromHash(hash)
	if err != nil {
		t.Fatal(err)
	}
	r.settle(t, pg)
	pg.fits("order page")
	pg.screenshot("p3-order-360")
	pg.run("my orders", 10*time.Second, pg.goTo("#/orders"), chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`tr[data-order=%q]`, id))))
	pg.fits("my orders")
	pg.screenshot("p4-my-orders-360")

	op := r.newPage(t)
	op.run("360 px window", 5*time.Second, chromedp.EmulateViewport(phoneWidth, 740))
	op.width = phoneWidth
	op.login("admin")
	op.run("operator page", 15*time.Second, op.goTo("#/admin"), chromedp.WaitVisible(chromedp.CSS("tr[data-service]")))
	op.fits("operator page")
	op.screenshot("p5-operator-360")
}

// keyboard logs in and buys with the keyboard alone: Tab to each control
// (each must show its focus and have a name), type, Space and Enter.
func (r *shopRun) keyboard(t *testing.T) {
	alice := apiClient(t, r.p.GatewayURL, "alice")
	prod := r.stocked(t, alice, 1)
	pg := r.newPage(t)
	pg.run("open the login page", 20*time.Second, chromedp.Navigate(pg.base+"/#/login"), chromedp.WaitVisible(chromedp.CSS("#username")))
	pg.unnamed("login page")
	pg.tabTo("#username", 5)
	pg.run("type the user", 5*time.Second, chromedp.KeyEvent("alice"))
	pg.tabTo("#password", 3)
	pg.run("type the password and press Enter", 15*time.Second, chromedp.KeyEvent("demo"), chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS("#logout")))
	btn := fmt.Sprintf(`li[data-sku=%q] button`, prod.SKU)
	pg.run("catalog", 15*time.Second, chromedp.WaitVisible(chromedp.CSS(btn)))
	pg.unnamed("catalog")
	pg.tabTo(btn, 60)
	pg.run("Space adds to the cart", 10*time.Second, chromedp.KeyEvent(" "), chromedp.WaitEnabled(chromedp.CSS("#checkout")))
	pg.tabTo("#checkout", 60)
	pg.run("Enter places the order", 20*time.Second, chromedp.KeyEvent("\r"), chromedp.WaitVisible(chromedp.CSS("#order-status")))
	pg.unnamed("order page")
	pg.screenshot("k1-order-by-keyboard")
}

// syncBuffer collects the platform's output from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
