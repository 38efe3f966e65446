package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ordo-platform/ordo/audit"
	"github.com/ordo-platform/ordo/launcher"
)

// ORDO_TOXIC_REDIS_DOWN is the longest Redis stays down in the
// redis-restart scenario (it stays down at least half of it).
const defaultToxicRedisDown = 5 * time.Second

type toxicMoney struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

type toxicLine struct {
	SKU       string     `json:"sku"`
	Quantity  int        `json:"quantity"`
	UnitPrice toxicMoney `json:"unit_price"`
}

// toxicOrder is the part of the order view a rebuilt read model must give
// back unchanged.
type toxicOrder struct {
	ID     string      `json:"id"`
	Status string      `json:"status"`
	Reason string      `json:"reason"`
	Lines  []toxicLine `json:"lines"`
	Total  toxicMoney  `json:"total"`
}

func (o toxicOrder) same(p toxicOrder) bool {
	return o.ID == p.ID && o.Status == p.Status && o.Reason == p.Reason && o.Total == p.Total && slices.Equal(o.Lines, p.Lines)
}

type toxicProduct struct {
	SKU       string     `json:"sku"`
	Name      string     `json:"name"`
	Price     toxicMoney `json:"price"`
	Available int        `json:"available"`
}

// toxicRedisRestart is the redis-restart scenario. The platform runs on a
// Redis of the test's own. Orders are placed and settle; then, while more
// orders flow, Redis is killed and started again empty. While it is down
// the gateway must fail as its README says (writes and login refused by
// the rate limiter with 503, reads let through without limits, an order
// write without the limiter refused by idempotency with 503); once it is
// back, limits count and keys replay again, every order becomes final, the
// read models are rebuilt (the orders settled before read as they did,
// the catalog's stock is that minus what the later confirmed orders took)
// and the auditor passes. Then Redis is restarted once more with the shop
// quiet, when no event comes to tell a projection that its keys are gone:
// the reads must come back all the same, and an order must go through.
func toxicRedisRestart(t *testing.T, r *toxicRun) {
	ctx := t.Context()
	phases := newToxicPhases()
	rs := startToxicRedis(t)
	p := r.bins.start(t, func(c *launcher.Config) { c.RedisURL = rs.url() })
	admin, customers, skus := prepareShop(t, p.GatewayURL)
	// A gateway with limits low enough to reach, and one without limits,
	// so that idempotency's own answer to a Redis outage can be seen.
	strict := startToxicGateway(t, r.bins.dir, p, rs.url(), "gw-strict",
		"--addr-rate", "1", "--addr-burst", "3", "--user-rate", "1", "--user-burst", "3")
	open := startToxicGateway(t, r.bins.dir, p, rs.url(), "gw-open", "--rate-limits=false")
	phases.done("start")

	before := placeSettled(t, customers, planOrders(r.rng, 3*r.rate, skus, len(customers)), r.rate)
	if _, err := audit.Quiet(ctx, p.store, 2*time.Second, time.Minute, 0); err != nil {
		t.Fatalf("quiet: %v", err)
	}
	catalog := stableCatalog(t, admin)
	orders := readOrders(t, customers, before)
	phases.done("orders before")

	longest := envDuration(t, "ORDO_TOXIC_REDIS_DOWN", defaultToxicRedisDown)
	killAt := time.Duration(500+r.rng.IntN(2000)) * time.Millisecond
	down := longest/2 + time.Duration(r.rng.Int64N(int64(longest/2)+1))
	n := int((killAt + down + 3*time.Second).Seconds() * float64(r.rate))
	plans := planOrders(r.rng, n, skus, len(customers))
	var after map[string]orderPlan
	var errs []error
	var wg sync.WaitGroup
	wg.Go(func() { after, errs = placePlans(ctx, customers, plans, 16, r.rate) })

	time.Sleep(killAt)
	keys, err := rs.keys(ctx)
	if err != nil || keys == 0 {
		t.Fatalf("the platform's Redis holds %d keys (%v) before the kill", keys, err)
	}
	rs.kill()
	killed := time.Now()
	redisDownAnswers(t, p, admin, customers[0], open, skus[0])
	time.Sleep(time.Until(killed.Add(down)))
	rs.start(t)
	t.Logf("redis (%d keys) killed %.1fs into the load, started again empty %.1fs later", keys, killAt.Seconds(), down.Seconds())
	id, plan := redisBackAnswers(t, strict, open, customers[0], skus[0], r.rng.Uint64())
	wg.Wait()
	after[id] = plan
	phases.done("kill+load")
	t.Logf("placed %d/%d orders around the restart", len(after)-1, n)
	if len(errs) > 0 {
		t.Errorf("%d orders could not be placed within their retry bound; first: %v", len(errs), errs[0])
	}

	view := expectView(customers, catalog, orders, before, after, nil)
	statuses := waitFinal(t, customers, view.owner, 2*time.Minute)
	phases.done("settle")
	t.Logf("outcomes: %s", summarize(statuses))
	rep := toxicAudit(t, p, 90*time.Second)
	view = expectView(customers, catalog, orders, before, after, statuses)
	if diff := view.problems(ctx); len(diff) > 0 {
		t.Fatalf("read models after the restart:\n%s", strings.Join(diff, "\n"))
	}
	phases.done("quiet+audit")

	// Once more with the shop quiet: no event comes to tell a projection
	// that its keys are gone.
	rs.kill()
	rs.start(t)
	if err := toxicWithin(ctx, time.Minute, func() error {
		if diff := view.problems(ctx); len(diff) > 0 {
			return errors.New(strings.Join(diff, "\n"))
		}
		return nil
	}); err != nil {
		t.Fatalf("read models a minute after a restart of a quiet shop:\n%v", err)
	}
	last := orderPlan{key: fmt.Sprintf("toxic-quiet-%016x", r.rng.Uint64()), lines: []loadLine{{SKU: skus[0], Quantity: 1}}}
	o, err := customers[0].place(ctx, last.key, last.lines, time.Minute)
	if err != nil {
		t.Fatalf("an order after a restart of a quiet shop: %v", err)
	}
	waitFinal(t, customers, map[string]int{o.ID: 0}, time.Minute)
	rep = toxicAudit(t, p, 90*time.Second)
	phases.done("quiet restart")
	t.Logf("audit OK (counts %+v); %s", rep.Counts, phases)
}

// redisDownAnswers checks the gateway's documented answers while Redis is
// down.
func redisDownAnswers(t *testing.T, p *loadPlatform, admin, c *loadClient, open, sku string) {
	t.Helper()
	ctx := t.Context()
	body := map[string]any{"lines": []loadLine{{SKU: sku, Quantity: 1}}}
	key := map[string]string{"Idempotency-Key": "toxic-redis-down"}
	refused := func(what string, st int, hdr http.Header, b []byte, err error, typ string) {
		t.Helper()
		if err != nil || st != http.StatusServiceUnavailable || toxicProblem(b) != typ || hdr.Get("Retry-After") == "" {
			t.Errorf("Redis down: %s answered %d %s (Retry-After %q, %v); want 503 %s with Retry-After",
				what, st, b, hdr.Get("Retry-After"), err, typ)
		}
	}
	st, hdr, b, err := toxicCall(ctx, p.GatewayURL, c.token, http.MethodPost, "/api/v1/orders", key, body)
	refused("POST /api/v1/orders", st, hdr, b, err, "rate-limiter-unavailable")
	st, hdr, b, err = toxicCall(ctx, p.GatewayURL, "", http.MethodPost, "/api/v1/auth/login", nil,
		map[string]string{"username": "alice", "password": "demo"})
	refused("POST /api/v1/auth/login", st, hdr, b, err, "rate-limiter-unavailable")
	st, hdr, b, err = toxicCall(ctx, open, c.token, http.MethodPost, "/api/v1/orders", key, body)
	refused("POST /api/v1/orders without rate limits", st, hdr, b, err, "idempotency-unavailable")
	// Reads fail open: admitted, without a limit and so without its headers.
	st, hdr, b, err = toxicCall(ctx, p.GatewayURL, admin.token, http.MethodGet, "/api/v1/admin/status", nil, nil)
	if err != nil || st != http.StatusOK || hdr.Get("RateLimit") != "" {
		t.Errorf("Redis down: GET /api/v1/admin/status answered %d (RateLimit %q, %v): %.300s; want 200 without limit headers",
			st, hdr.Get("RateLimit"), err, b)
	}
}

// redisBackAnswers checks, once Redis is back, that limits count again
// (the strict gateway answers 429 past its burst) and that an order write
// under a key replays (the open gateway, same key twice); it returns that
// order.
func redisBackAnswers(t *testing.T, strict, open string, c *loadClient, sku string, nonce uint64) (string, orderPlan) {
	t.Helper()
	ctx := t.Context()
	err := toxicWithin(ctx, 30*time.Second, func() error {
		for i := range 10 {
			st, hdr, _, err := toxicCall(ctx, strict, "", http.MethodGet, "/api/v1/products", nil, nil)
			switch {
			case err != nil:
				return err
			case st == http.StatusTooManyRequests && hdr.Get("Retry-After") != "":
				return nil
			case hdr.Get("RateLimit") == "":
				return fmt.Errorf("call %d answered %d without RateLimit: the limiter is not counting", i, st)
			}
		}
		return errors.New("no 429 within 10 calls past a burst of 3")
	})
	if err != nil {
		t.Fatalf("Redis back: rate limits do not work again: %v", err)
	}
	plan := orderPlan{customer: 0, key: fmt.Sprintf("toxic-back-%016x", nonce), lines: []loadLine{{SKU: sku, Quantity: 1}}}
	place := func() (int, http.Header, loadOrder, error) {
		st, hdr, b, err := toxicCall(ctx, open, c.token, http.MethodPost, "/api/v1/orders",
			map[string]string{"Idempotency-Key": plan.key}, map[string]any{"lines": plan.lines})
		var o loadOrder
		if err == nil && st == http.StatusAccepted {
			err = json.Unmarshal(b, &o)
		} else if err == nil {
			err = fmt.Errorf("answered %d %s", st, b)
		}
		return st, hdr, o, err
	}
	var first loadOrder
	err = toxicWithin(ctx, time.Minute, func() error {
		st, _, o, err := place()
		if st >= 400 && st < 500 {
			t.Fatalf("Redis back: a valid order was refused: %v", err)
		}
		first = o
		return err
	})
	if err != nil {
		t.Fatalf("Redis back: placing an order: %v", err)
	}
	_, hdr, again, err := place()
	if err != nil || again.ID != first.ID || hdr.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("Redis back: the same key again gave %+v (Idempotent-Replayed %q, %v), want a replay of %s",
			again, hdr.Get("Idempotent-Replayed"), err, first.ID)
	}
	return first.ID, plan
}

// stableCatalog waits for the store to be quiet and returns the catalog
// once two reads a second apart agree.
func stableCatalog(t *testing.T, admin *loadClient) map[string]toxicProduct {
	t.Helper()
	var last map[string]toxicProduct
	err := toxicWithin(t.Context(), time.Minute, func() error {
		time.Sleep(time.Second)
		now, err := readCatalog(t.Context(), admin)
		if err != nil {
			return err
		}
		same := len(now) == len(last)
		for sku, p := range now {
			same = same && last[sku] == p
		}
		last = now
		if !same {
			return errors.New("catalog still changing")
		}
		return nil
	})
	if err != nil {
		t.Fatalf("catalog: %v", err)
	}
	return last
}

func readCatalog(ctx context.Context, c *loadClient) (map[string]toxicProduct, error) {
	var list struct {
		Items []toxicProduct `json:"items"`
	}
	if err := c.call(ctx, http.MethodGet, "/api/v1/products", nil, nil, &list); err != nil {
		return nil, err
	}
	out := map[string]toxicProduct{}
	for _, p := range list.Items {
		out[p.SKU] = p
	}
	return out, nil
}

func readOrders(t *testing.T, customers []*loadClient, placed map[string]orderPlan) map[string]toxicOrder {
	t.Helper()
	out := map[string]toxicOrder{}
	for id, pl := range placed {
		var o toxicOrder
		if err := customers[pl.customer].call(t.Context(), http.MethodGet, "/api/v1/orders/"+id, nil, nil, &o); err != nil {
			t.Fatalf("read order %s: %v", id, err)
		}
		out[id] = o
	}
	return out
}

// toxicShopView is what the read models must show once they are rebuilt.
type toxicShopView struct {
	customers []*loadClient
	owner     map[string]int          // every order's customer
	orders    map[string]toxicOrder   // the orders settled before the restart, as they read then
	products  map[string]toxicProduct // every product, with the stock it must show
}

// expectView is the shop as the test knows it: the orders settled before
// the restart read as they did, every order is in its customer's list, and
// each SKU's stock is what it was minus what the orders confirmed since
// took.
func expectView(customers []*loadClient, catalog map[string]toxicProduct, orders map[string]toxicOrder,
	before, after map[string]orderPlan, statuses map[string]loadOrder) toxicShopView {
	v := toxicShopView{customers: customers, owner: map[string]int{}, orders: orders, products: maps.Clone(catalog)}
	for id, pl := range before {
		v.owner[id] = pl.customer
	}
	for id, pl := range after {
		v.owner[id] = pl.customer
		if statuses[id].Status != "confirmed" {
			continue
		}
		for _, l := range pl.lines {
			p := v.products[l.SKU]
			p.Available -= l.Quantity
			v.products[l.SKU] = p
		}
	}
	return v
}

// problems is how the gateway's reads differ from the view.
func (v toxicShopView) problems(ctx context.Context) []string {
	var out []string
	for id, want := range v.orders {
		var got toxicOrder
		if err := v.customers[v.owner[id]].call(ctx, http.MethodGet, "/api/v1/orders/"+id, nil, nil, &got); err != nil {
			out = append(out, fmt.Sprintf("order %s is not readable: %v", id, err))
		} else if !got.same(want) {
			out = append(out, fmt.Sprintf("order %s reads %+v, before the restart %+v", id, got, want))
		}
	}
	listed := map[string]bool{}
	for _, c := range v.customers {
		ids, err := listOrders(ctx, c)
		if err != nil {
			out = append(out, err.Error())
		}
		for _, id := range ids {
			listed[id] = true
		}
	}
	for id := range v.owner {
		if !listed[id] {
			out = append(out, fmt.Sprintf("order %s is missing from its customer's list", id))
		}
	}
	got, err := readCatalog(ctx, v.customers[0])
	if err != nil {
		return append(out, fmt.Sprintf("catalog: %v", err))
	}
	for sku, want := range v.products {
		if g := got[sku]; g != want {
			out = append(out, fmt.Sprintf("catalog shows %s as %+v, want %+v", sku, g, want))
		}
	}
	if len(got) != len(v.products) {
		out = append(out, fmt.Sprintf("catalog has %d products, want %d", len(got), len(v.products)))
	}
	return out
}

func listOrders(ctx context.Context, c *loadClient) ([]string, error) {
	var ids []string
	cursor := ""
	for range 1000 {
		var page struct {
			Items      []toxicOrder `json:"items"`
			NextCursor *string      `json:"next_cursor"`
		}
		path := "/api/v1/orders?limit=50"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		if err := c.call(ctx, http.MethodGet, path, nil, nil, &page); err != nil {
			return ids, fmt.Errorf("list orders: %w", err)
		}
		for _, o := range page.Items {
			ids = append(ids, o.ID)
		}
		if page.NextCursor == nil {
			return ids, nil
		}
		cursor = *page.NextCursor
	}
	return ids, errors.New("list orders: more than 1000 pages")
}
