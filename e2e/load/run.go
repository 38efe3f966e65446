package load

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// phase is one Run in progress.
type phase struct {
	cfg     Config
	shop    *shop
	rec     *recorder
	rng     *rand.Rand
	runID   string // makes this run's idempotency keys its own
	ctx     context.Context
	planned int64
}

// Run sends cfg.Workload to the gateway at cfg.Rate arrivals per second for
// the warm-up and the measured window, waits (at most cfg.Drain) for the
// window's orders to reach their outcome, and returns what it measured.
// When ctx ends early the result so far comes back with Interrupted set,
// together with ctx's error.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	hc := newHTTPClient(cfg)
	defer hc.CloseIdleConnections()
	sh, err := setUp(ctx, cfg, hc)
	if err != nil {
		return nil, err
	}
	start := time.Now().Add(100 * time.Millisecond)
	p := &phase{cfg: cfg, shop: sh, rec: newRecorder(start, cfg.Warmup, cfg.Duration, cfg.LateAfter),
		rng:   rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)), //nolint:gosec // reproducible choices, not secrets
		runID: newRunID(), ctx: ctx}
	sched := &scheduler{maxInFlight: int64(cfg.MaxInFlight)}

	bg, stopBG := context.WithCancel(ctx)
	var bgWG sync.WaitGroup
	bgWG.Go(func() { watch(bg, sh.accounts, p.rec, cfg.WatchInterval) })
	bgWG.Go(func() { sampleStatus(bg, sh.admin, p.rec, cfg.StatusInterval) })
	if cfg.Progress != nil {
		bgWG.Go(func() { progress(bg, cfg, p.rec, sched) })
	}
	sched.run(ctx, newTimetable(start, cfg.Rate, cfg.Warmup+cfg.Duration), p.plan, p.rec.refused)
	sched.wait()
	drained := p.drain(ctx)
	stopBG()
	bgWG.Wait()
	pending := 0
	for _, acc := range sh.accounts {
		pending += acc.count(p.rec.measured)
	}
	p.rec.unresolved(pending)
	res := p.rec.result(cfg, p.planned, sched, drained)
	res.Interrupted = ctx.Err() != nil
	return res, ctx.Err()
}

func newRunID() string {
	b := make([]byte, 4)
	_, _ = crand.Read(b)
	return hex.EncodeToString(b)
}

// drain waits until every order of the window has its outcome, at most
// cfg.Drain, and returns how long it waited.
func (p *phase) drain(ctx context.Context) time.Duration {
	begin := time.Now()
	for {
		pending := 0
		for _, acc := range p.shop.accounts {
			pending += acc.count(p.rec.measured)
		}
		if pending == 0 || time.Since(begin) >= p.cfg.Drain {
			return time.Since(begin)
		}
		select {
		case <-ctx.Done():
			return time.Since(begin)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// step is what one arrival does, drawn in plan.
type step struct {
	kind    Kind
	shopper int
	sku     string
	lines   []line
	key     string
	pick    uint64
}

type line struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

// plan draws arrival i's action from the workload's mix.
func (p *phase) plan(i int, due time.Time) arrival {
	if p.rec.measured(due) {
		p.planned++
	}
	st := step{kind: p.draw(), shopper: p.rng.IntN(len(p.shop.shoppers))}
	skus := p.shop.skus
	switch st.kind {
	case KindProduct:
		st.sku = skus[p.rng.IntN(len(skus))]
	case KindPlace:
		for _, j := range p.rng.Perm(len(skus))[:1+p.rng.IntN(min(3, len(skus)))] {
			st.lines = append(st.lines, line{SKU: skus[j], Quantity: 1 + p.rng.IntN(3)})
		}
		st.key = fmt.Sprintf("load-%s-%d", p.runID, i)
	case KindOrder:
		st.pick = p.rng.Uint64()
	}
	return arrival{kind: st.kind, run: func(began time.Time) { p.execute(st, due, began) }}
}

func (p *phase) draw() Kind {
	n := p.rng.IntN(100)
	for _, s := range p.cfg.Workload.mix() {
		if n < s.weight {
			return s.kind
		}
		n -= s.weight
	}
	return KindCatalog
}

// execute runs one arrival in its goroutine.
func (p *phase) execute(st step, due, began time.Time) {
	p.rec.began(due, began)
	sh := p.shop.shoppers[st.shopper]
	acc := p.shop.accounts[p.shop.accountOf[st.shopper]]
	get := func(k Kind, path string) answer {
		a := sh.do(p.ctx, http.MethodGet, path, nil, nil)
		p.rec.request(k, due, due, a)
		return a
	}
	switch st.kind {
	case KindPlace:
		p.place(sh, acc, st, due)
	case KindCatalog:
		get(KindCatalog, "/api/v1/products")
	case KindProduct:
		get(KindProduct, "/api/v1/products/"+url.PathEscape(st.sku))
	case KindOrder:
		if id, ok := acc.pick(st.pick); ok {
			get(KindOrder, "/api/v1/orders/"+url.PathEscape(id))
			return
		}
		get(KindOrders, "/api/v1/orders?limit=20") // nothing to view yet: the list instead
	case KindOrders:
		get(KindOrders, "/api/v1/orders?limit=20")
	}
}

// place places an order, then reads it back with min_position as the
// shop's confirmation page does; the read is due when the 202 arrived.
func (p *phase) place(sh *client, acc *account, st step, due time.Time) {
	body, _ := json.Marshal(map[string]any{"lines": st.lines})
	a := sh.do(p.ctx, http.MethodPost, "/api/v1/orders", map[string]string{"Idempotency-Key": st.key}, body)
	p.rec.request(KindPlace, due, due, a)
	var o struct {
		ID       string `json:"id"`
		Position string `json:"position"`
	}
	if !a.ok() || json.Unmarshal(a.body, &o) != nil || o.ID == "" {
		return
	}
	p.rec.placed(due)
	acc.track(o.ID, due)
	path := "/api/v1/orders/" + url.PathEscape(o.ID)
	if o.Position != "" {
		path += "?min_position=" + url.QueryEscape(o.Position)
	}
	r := sh.do(p.ctx, http.MethodGet, path, nil, nil)
	p.rec.request(KindOwn, due, a.done, r)
	if r.ok() {
		acc.show(o.ID)
	}
}
