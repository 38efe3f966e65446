package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/money"
	"github.com/ordo-platform/ordo/pkg/platform"
	"github.com/ordo-platform/ordo/pkg/testenv"
	"github.com/ordo-platform/ordo/services/inventory"
	"github.com/ordo-platform/ordo/services/order"
	"github.com/ordo-platform/ordo/services/payment"
)

// benchCommand reproduces BenchmarkSaga with n orders and w workers (from
// the repository root).
func benchCommand(n, w int) string {
	return fmt.Sprintf("ORDO_BENCH_ORDERS=%d ORDO_BENCH_WORKERS=%d bin/ordo-infra exec -- go test -run '^$' -bench BenchmarkSaga -benchtime 1x -timeout 20m ./e2e/", n, w)
}

// BenchmarkSaga measures the order-fulfilment saga end to end: N orders
// placed through the gateway by W concurrent clients, each timed from just
// before its POST to the store's recorded time of its order.confirmed or
// order.cancelled, first on the happy path (faults off), then on the
// compensation path (decline rate 1: reserve, charge declined, release,
// cancel). Beside it, by the same W workers, the same writes without the
// saga three ways: in a second running platform whose order service runs
// no saga (platformWritesPhase: the gateway, projections and notify as
// with the saga, the hand-offs replaced by the worker writing each step
// itself), alone into a fresh store (sameWritesPhase), and the order's
// own place + confirm only (directPhase).
//
// It ignores b.N beyond one measurement: run it with -benchtime 1x. It
// prints a Markdown table and reports the figures as metrics.
func BenchmarkSaga(b *testing.B) {
	n := benchEnvInt(b, "ORDO_BENCH_ORDERS", 200)
	workers := benchEnvInt(b, "ORDO_BENCH_WORKERS", 8)
	setLoadEnv(b)
	binDir := b.TempDir()
	p := startLoadPlatform(b, binDir, true)
	ctx := b.Context()
	finals := watchFinals(b, p.store)
	admin, customers, skus := prepareShop(b, p.GatewayURL)

	var rows, hopRows []benchRow
	var quietRates []string
	for b.Loop() {
		if err := admin.setFaults(ctx, loadFaults{}); err != nil {
			b.Fatal(err)
		}
		happy := sagaPhase(b, "saga, happy path (faults off)", customers, skus, finals, n, workers, "confirmed")
		quietRates = append(quietRates, untilQuiet(b, p.store, "saga, happy path", happy.row))
		if err := admin.setFaults(ctx, loadFaults{DeclineRate: 1}); err != nil {
			b.Fatal(err)
		}
		comp := sagaPhase(b, "saga, compensation (decline rate 1)", customers, skus, finals, n, workers, "cancelled")
		if err := admin.setFaults(ctx, loadFaults{}); err != nil {
			b.Fatal(err)
		}
		plain, pp := platformWritesPhase(b, binDir, n, workers)
		quietRates = append(quietRates, untilQuiet(b, pp.store, "no saga, in a running platform", plain))
		rows = []benchRow{happy.row, happy.accept, comp.row, plain, sameWritesPhase(b, n, workers, len(skus), p.URLs["provider-sim"]), directPhase(b, n, workers)}
		hopRows = hops(b, p.store, happy.ids)
	}
	for _, r := range rows {
		b.ReportMetric(r.p50.Seconds()*1000, benchSlug(r.name)+"-p50-ms")
	}
	fmt.Print(benchTable(n, workers, rows))
	if len(rows) == 6 && rows[3].perSecond > 0 && rows[4].perSecond > 0 && rows[5].perSecond > 0 {
		fmt.Printf("Saga happy path against the same writes in a running platform without the saga: %.2fx; against the same writes alone: %.2fx; against the order's writes only: %.3fx\n\n",
			rows[0].perSecond/rows[3].perSecond, rows[0].perSecond/rows[4].perSecond, rows[0].perSecond/rows[5].perSecond)
	}
	for _, q := range quietRates {
		fmt.Println(q)
	}
	fmt.Println()
	fmt.Print(hopTable(hopRows))
}

func benchEnvInt(b *testing.B, key string, def int) int {
	b.Helper()
	var n int
	if s := os.Getenv(key); s != "" {
		if _, err := fmt.Sscan(s, &n); err != nil || n <= 0 {
			b.Fatalf("%s=%q: want a positive integer", key, s)
		}
		return n
	}
	return def
}

// benchRow is one line of the table.
type benchRow struct {
	name          string
	begin         time.Time // when the phase started
	n             int
	p50, p99, max time.Duration
	perSecond     float64 // completed per second of the phase's wall time
	note          string
}

func newRow(name string, ds []time.Duration, wall time.Duration, note string) benchRow {
	slices.Sort(ds)
	r := benchRow{name: name, n: len(ds), note: note}
	if len(ds) > 0 {
		r.p50, r.p99, r.max = quantile(ds, 0.50), quantile(ds, 0.99), ds[len(ds)-1]
	}
	if wall > 0 {
		r.perSecond = float64(len(ds)) / wall.Seconds()
	}
	return r
}

// quantile of sorted ds, nearest rank.
func quantile(ds []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(ds))+0.999999) - 1
	return ds[max(0, min(i, len(ds)-1))]
}

// finalTimes hears every order.confirmed / order.cancelled and keeps the
// time the store recorded it, by order id.
type finalTimes struct {
	mu   sync.Mutex
	at   map[string]es.Event
	wait map[string]chan struct{}
}

func (f *finalTimes) ch(id string) chan struct{} {
	if f.wait[id] == nil {
		f.wait[id] = make(chan struct{})
	}
	return f.wait[id]
}

// await returns the final event of order id, or an error after within.
func (f *finalTimes) await(ctx context.Context, id string, within time.Duration) (es.Event, error) {
	f.mu.Lock()
	c := f.ch(id)
	f.mu.Unlock()
	select {
	case <-c:
	case <-time.After(within):
		return es.Event{}, fmt.Errorf("order %s not final after %v", id, within)
	case <-ctx.Done():
		return es.Event{}, ctx.Err()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.at[id], nil
}

func watchFinals(b *testing.B, store es.Store) *finalTimes {
	b.Helper()
	f := &finalTimes{at: map[string]es.Event{}, wait: map[string]chan struct{}{}}
	ctx, cancel := context.WithCancel(context.WithoutCancel(b.Context()))
	done := make(chan struct{})
	go func() {
		defer close(done)
		filter := es.Filter{Categories: []string{order.Category}, Types: []string{order.TypeConfirmed, order.TypeCancelled}}
		err := store.Subscribe(ctx, es.Start, filter, func(_ context.Context, e es.Event) error {
			id := strings.TrimPrefix(e.StreamID, order.Category+"-")
			f.mu.Lock()
			defer f.mu.Unlock()
			if _, seen := f.at[id]; !seen {
				f.at[id] = e
				close(f.ch(id))
			}
			return nil
		})
		if err != nil && !errors.Is(err, context.Canceled) {
			b.Errorf("subscribe: %v", err)
		}
	}()
	b.Cleanup(func() { cancel(); <-done })
	return f
}

// phaseResult is a saga phase: place-to-final, POST-to-202 alone, and the
// ids of the orders it placed.
type phaseResult struct {
	row, accept benchRow
	ids         []string
}

// sagaPhase places n one-line orders through the gateway with workers
// clients and times each until its final event; every outcome must be want.
func sagaPhase(b *testing.B, name string, customers []*loadClient, skus []string, finals *finalTimes, n, workers int, want string) phaseResult {
	b.Helper()
	ctx := b.Context()
	var mu sync.Mutex
	var total, accept []time.Duration
	var ids []string
	var errs []error
	var unexpected int
	begin := time.Now()
	var last time.Time
	runWorkers(n, workers, func(i int) {
		c := customers[i%len(customers)]
		t0 := time.Now()
		o, err := c.place(ctx, fmt.Sprintf("bench-%s-%d-%d", benchSlug(name), begin.UnixNano(), i),
			[]loadLine{{SKU: skus[i%len(skus)], Quantity: 1}}, 30*time.Second)
		t1 := time.Now()
		var e es.Event
		if err == nil {
			e, err = finals.await(ctx, o.ID, time.Minute)
		}
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs = append(errs, err)
			return
		}
		if !strings.HasSuffix(e.Type, want) {
			unexpected++
		}
		total, accept = append(total, e.RecordedAt.Sub(t0)), append(accept, t1.Sub(t0))
		ids = append(ids, o.ID)
		if e.RecordedAt.After(last) {
			last = e.RecordedAt
		}
	})
	if len(errs) > 0 {
		b.Fatalf("%s: %d orders failed; first: %v", name, len(errs), errs[0])
	}
	note := ""
	if unexpected > 0 {
		note = fmt.Sprintf("%d orders did not end %s", unexpected, want)
	}
	row := newRow(name+": place → "+want, total, last.Sub(begin), note)
	row.begin = begin
	return phaseResult{row: row, accept: newRow(name+": POST → 202 only", accept, 0, "the saga runs behind it"), ids: ids}
}

// sameWritesPhase writes what the saga's happy path records in the
// services' streams for each order, without the saga: the order placed,
// its line reserved, the payment requested, charged at the provider
// simulator over HTTP (the order id as idempotency key), the payment
// captured, the order confirmed and the stock committed, one after the
// other through the services' domain packages and es.Repository into a
// fresh store, by the same workers, over as many SKUs as the saga phases
// use, with the stock cached and each SKU's writes serialized as inventory
// does. This is the
// unorchestrated rate the
// saga is measured against: the same business writes and the same charge,
// but no saga stream, no hand-offs through subscriptions, no gateway, and
// no projections or notify running on them.
func sameWritesPhase(b *testing.B, n, workers, nSKUs int, providerURL string) benchRow {
	b.Helper()
	ctx := b.Context()
	store, closeStore, err := platform.OpenStore(ctx, testenv.Database(b), slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer closeStore()
	reg := es.NewRegistry()
	order.Register(reg)
	inventory.Register(reg)
	payment.Register(reg)
	orders := es.NewRepository(store, reg, order.Aggregate, 3)
	stock := es.NewRepository(store, reg, inventory.StockAggregate, 10).WithCache(4096)
	payments := es.NewRepository(store, reg, payment.Aggregate, 3)
	price := money.Euros(1290)
	prices := order.Prices{}
	skus := make([]string, max(nSKUs, 1))
	for i := range skus {
		skus[i] = fmt.Sprintf("SKU-%d", i+1)
		prices[skus[i]] = price
		if _, err := stock.Execute(ctx, skus[i], func(s inventory.Stock) ([]any, error) { return s.Restock(n) }); err != nil {
			b.Fatal(err)
		}
	}
	execStock := perSKU(stock, skus)
	client := &http.Client{Timeout: 10 * time.Second}
	ds, wall := timedWrites(b, "same writes without the saga", n, workers, func(i int) error {
		id, sku := es.NewUUID().String(), skus[i%len(skus)]
		if _, err := orders.Execute(ctx, id, func(o order.Order) ([]any, error) {
			return o.Place("alice", []order.Item{{SKU: sku, Quantity: 1}}, prices)
		}); err != nil {
			return err
		}
		if err := execStock(ctx, sku, func(s inventory.Stock) ([]any, error) { return s.Reserve(id, 1) }); err != nil {
			return err
		}
		if _, err := payments.Execute(ctx, id, func(p payment.Payment) ([]any, error) { return p.Request(price) }); err != nil {
			return err
		}
		ref, err := benchCharge(ctx, client, providerURL, "bench-"+id, price)
		if err != nil {
			return err
		}
		if _, err := payments.Execute(ctx, id, func(p payment.Payment) ([]any, error) { return p.Capture(ref) }); err != nil {
			return err
		}
		if _, err := orders.Execute(ctx, id, order.Order.Confirm); err != nil {
			return err
		}
		return execStock(ctx, sku, func(s inventory.Stock) ([]any, error) { return s.Commit(id) })
	})
	return newRow("no saga, the same writes: order, stock, payment + provider charge → PostgreSQL store", ds, wall,
		"the unorchestrated rate: no saga stream, no hand-offs, no gateway")
}

// perSKU runs stock commands one writer per SKU at a time, as the
// inventory service serializes them (its app's per-SKU lock): otherwise many
// workers on a few SKUs spend their time on optimistic-concurrency retries.
func perSKU(stock *es.Repository[inventory.Stock], skus []string) func(context.Context, string, func(inventory.Stock) ([]any, error)) error {
	locks := make(map[string]*sync.Mutex, len(skus))
	for _, sku := range skus {
		locks[sku] = &sync.Mutex{}
	}
	return func(ctx context.Context, sku string, decide func(inventory.Stock) ([]any, error)) error {
		locks[sku].Lock()
		defer locks[sku].Unlock()
		_, err := stock.Execute(ctx, sku, decide)
		return err
	}
}

// timedWrites runs write for orders 0..n-1 on workers goroutines and
// returns each one's duration and the wall time of all; any failure fails
// the benchmark, naming what was written.
func timedWrites(b *testing.B, what string, n, workers int, write func(i int) error) ([]time.Duration, time.Duration) {
	b.Helper()
	var mu sync.Mutex
	var ds []time.Duration
	var errs []error
	begin := time.Now()
	runWorkers(n, workers, func(i int) {
		t0 := time.Now()
		err := write(i)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs = append(errs, err)
			return
		}
		ds = append(ds, time.Since(t0))
	})
	if len(errs) > 0 {
		b.Fatalf("%s: %d failed; first: %v", what, len(errs), errs[0])
	}
	return ds, time.Since(begin)
}

// benchCharge charges amount at the provider simulator under key and
// returns the charge's id.
func benchCharge(ctx context.Context, client *http.Client, providerURL, key string, amount money.Money) (string, error) {
	body, err := json.Marshal(map[string]any{"idempotency_key": key, "amount": amount})
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, providerURL+"/v1/charges", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	var ch struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ch); err != nil || resp.StatusCode != http.StatusCreated || ch.Status != "captured" {
		return "", fmt.Errorf("charge %s: status %d, charge %+v, %v", key, resp.StatusCode, ch, err)
	}
	return ch.ID, nil
}

// directPhase writes only the order's part without a saga: place then
// confirm through the order aggregate, straight into a fresh store (the
// floor of an order's own writes).
func directPhase(b *testing.B, n, workers int) benchRow {
	b.Helper()
	ctx := b.Context()
	store, closeStore, err := platform.OpenStore(ctx, testenv.Database(b), slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer closeStore()
	reg := es.NewRegistry()
	order.Register(reg)
	repo := es.NewRepository(store, reg, order.Aggregate, 3)
	prices := order.Prices{"SKU-1": money.Euros(1290)}
	ds, wall := timedWrites(b, "direct writes", n, workers, func(int) error {
		id := es.NewUUID().String()
		if _, err := repo.Execute(ctx, id, func(o order.Order) ([]any, error) {
			return o.Place("alice", []order.Item{{SKU: "SKU-1", Quantity: 1}}, prices)
		}); err != nil {
			return err
		}
		_, err := repo.Execute(ctx, id, order.Order.Confirm)
		return err
	})
	return newRow("no saga, the order's writes only: place + confirm → PostgreSQL store", ds, wall, "no HTTP, no other service")
}

// hopSteps are the happy path's hand-offs, each event the reaction to the
// one before it, with who reacts.
var hopSteps = []struct{ typ, by string }{
	{order.TypePlaced, ""},
	{"fulfilment.reservation_requested", "saga"},
	{"stock.reserved", "inventory"},
	{"fulfilment.payment_requested", "saga"},
	{"payment.captured", "payment, with the provider's charge"},
	{"fulfilment.stock_secure_requested", "saga"},
	{"stock.reservation_secured", "inventory"},
	{order.TypeConfirmed, "saga, then the order command"},
}

// hops reads the orders' events back and times each hand-off of hopSteps:
// from the recording of one event to the recording of the reaction to it,
// that is the reacting subscriber's delivery (notification, wake-up, read)
// plus its handling up to its append. It is where place → confirmed goes.
func hops(b *testing.B, store es.Store, ids []string) []benchRow {
	b.Helper()
	want := make(map[string]map[string]time.Time, len(ids))
	for _, id := range ids {
		want[id] = map[string]time.Time{}
	}
	types := make([]string, len(hopSteps))
	for i, h := range hopSteps {
		types[i] = h.typ
	}
	for from := es.Start; ; {
		batch, err := store.ReadAll(b.Context(), from, es.Filter{Types: types}, 5000)
		if err != nil {
			b.Fatal(err)
		}
		for _, e := range batch {
			from = e.Position
			if at, ok := want[e.Metadata.CorrelationID]; ok {
				if _, seen := at[e.Type]; !seen {
					at[e.Type] = e.RecordedAt
				}
			}
		}
		if len(batch) < 5000 {
			break
		}
	}
	rows := make([]benchRow, 0, len(hopSteps)-1)
	for i := 1; i < len(hopSteps); i++ {
		var ds []time.Duration
		for _, at := range want {
			t0, ok0 := at[hopSteps[i-1].typ]
			t1, ok1 := at[hopSteps[i].typ]
			if ok0 && ok1 {
				ds = append(ds, t1.Sub(t0))
			}
		}
		rows = append(rows, newRow(hopSteps[i-1].typ+" → "+hopSteps[i].typ, ds, 0, hopSteps[i].by))
	}
	return rows
}

func hopTable(rows []benchRow) string {
	var s strings.Builder
	fmt.Fprintf(&s, "Happy path, hand-off by hand-off (recorded time to recorded time):\n\n")
	fmt.Fprintf(&s, "| hand-off | orders | p50 | p99 | max | who reacts |\n|---|---:|---:|---:|---:|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&s, "| %s | %d | %s | %s | %s | %s |\n", r.name, r.n, ms(r.p50), ms(r.p99), ms(r.max), r.note)
	}
	return s.String() + "\n"
}

// runWorkers calls f(0..n-1) from workers goroutines.
func runWorkers(n, workers int, f func(i int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				f(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

func benchTable(n, workers int, rows []benchRow) string {
	var s strings.Builder
	fmt.Fprintf(&s, "\n### Saga benchmark — %d orders per row, %d concurrent clients\n\n", n, workers)
	fmt.Fprintf(&s, "| what | orders | p50 | p99 | max | completed/s | note |\n|---|---:|---:|---:|---:|---:|---|\n")
	for _, r := range rows {
		rate := "—"
		if r.perSecond > 0 {
			rate = fmt.Sprintf("%.1f", r.perSecond)
		}
		fmt.Fprintf(&s, "| %s | %d | %s | %s | %s | %s | %s |\n", r.name, r.n, ms(r.p50), ms(r.p99), ms(r.max), rate, r.note)
	}
	fmt.Fprintf(&s, "\nReproduce: `%s`  \nMachine: %d CPUs (%s), %s, %s/%s; date %s\n\n",
		benchCommand(n, workers), runtime.NumCPU(), cpuModel(), runtime.Version(), runtime.GOOS, runtime.GOARCH, time.Now().UTC().Format(time.RFC3339))
	return s.String()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", d.Seconds()*1000) }

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// benchSlug makes a metric unit of a row's name.
func benchSlug(s string) string {
	var out strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			out.WriteRune(r)
			dash = false
		} else if !dash {
			out.WriteByte('-')
			dash = true
		}
	}
	return strings.Trim(out.String(), "-")
}

// platformWritesPhase is the unorchestrated rate inside a running
// platform: a second platform, started with the order service's saga off
// (ORDO_ORDER_SAGA=false), where each order is placed through the gateway
// exactly as in the saga phases and the worker then writes what the saga's
// happy path records, one after the other through the services' domain
// packages into that platform's store: stock reserved, payment requested,
// charged at its provider simulator over HTTP (the order id as idempotency
// key), payment captured, stock secured, order confirmed, and then, as the
// saga does after the confirmation, the stock committed without the worker
// waiting for it. Everything that is not orchestration runs as with the
// saga: the gateway, the order service's placement, the projections
// (orders, catalog, payments, feed) and notify, which emails each
// confirmation. An order is timed from just before its POST to its
// confirmation's append returning; the rate counts the orders over the
// time to the last confirmation.
func platformWritesPhase(b *testing.B, binDir string, n, workers int) (benchRow, *loadPlatform) {
	b.Helper()
	ctx := b.Context()
	b.Setenv("ORDO_ORDER_SAGA", "false")
	p := startLoadPlatform(b, binDir, false)
	_, customers, skus := prepareShop(b, p.GatewayURL)
	reg := es.NewRegistry()
	order.Register(reg)
	inventory.Register(reg)
	payment.Register(reg)
	orders := es.NewRepository(p.store, reg, order.Aggregate, 3)
	stock := es.NewRepository(p.store, reg, inventory.StockAggregate, 10).WithCache(4096)
	payments := es.NewRepository(p.store, reg, payment.Aggregate, 3)
	execStock := perSKU(stock, skus)
	client := &http.Client{Timeout: 10 * time.Second}
	var commits sync.WaitGroup
	var mu sync.Mutex
	var commitErrs []error
	var last time.Time
	begin := time.Now()
	ds, _ := timedWrites(b, "same writes in a platform without the saga", n, workers, func(i int) error {
		sku := skus[i%len(skus)]
		o, err := customers[i%len(customers)].place(ctx, fmt.Sprintf("bench-platform-%d-%d", begin.UnixNano(), i),
			[]loadLine{{SKU: sku, Quantity: 1}}, 30*time.Second)
		if err != nil {
			return err
		}
		placed, err := orders.Load(ctx, o.ID)
		if err != nil {
			return err
		}
		total := placed.State.Total
		if err := execStock(ctx, sku, func(s inventory.Stock) ([]any, error) { return s.Reserve(o.ID, 1) }); err != nil {
			return err
		}
		if _, err := payments.Execute(ctx, o.ID, func(p payment.Payment) ([]any, error) { return p.Request(total) }); err != nil {
			return err
		}
		ref, err := benchCharge(ctx, client, p.URLs["provider-sim"], o.ID, total)
		if err != nil {
			return err
		}
		if _, err := payments.Execute(ctx, o.ID, func(p payment.Payment) ([]any, error) { return p.Capture(ref) }); err != nil {
			return err
		}
		if err := execStock(ctx, sku, func(s inventory.Stock) ([]any, error) { return s.Secure(o.ID) }); err != nil {
			return err
		}
		if _, err := orders.Execute(ctx, o.ID, order.Order.Confirm); err != nil {
			return err
		}
		mu.Lock()
		last = time.Now()
		mu.Unlock()
		commits.Go(func() {
			if err := execStock(context.WithoutCancel(ctx), sku, func(s inventory.Stock) ([]any, error) { return s.Commit(o.ID) }); err != nil {
				mu.Lock()
				commitErrs = append(commitErrs, err)
				mu.Unlock()
			}
		})
		return nil
	})
	commits.Wait()
	if len(commitErrs) > 0 {
		b.Fatalf("same writes in a platform without the saga: %d stock commits failed; first: %v", len(commitErrs), commitErrs[0])
	}
	row := newRow("no saga, the same writes in a running platform: POST through the gateway, then stock, payment + provider charge, secure, confirm", ds, last.Sub(begin),
		"the unorchestrated rate beside the same gateway, projections and notify")
	row.begin = begin
	return row, p
}

// untilQuiet waits until store's head has not moved for a second (at most
// a minute) and says how many of row's orders completed per second when
// the phase's work is counted up to its last append, the consumers' too
// (notify's records, the saga's stock commits): a phase whose consumers
// fell behind is not credited with work still queued when its last order
// completed.
func untilQuiet(b *testing.B, store es.Store, what string, row benchRow) string {
	b.Helper()
	ctx := b.Context()
	head, err := store.Head(ctx)
	if err != nil {
		b.Fatal(err)
	}
	moved := time.Now()
	for deadline := moved.Add(time.Minute); time.Since(moved) < time.Second; time.Sleep(20 * time.Millisecond) {
		now, err := store.Head(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if now != head {
			head, moved = now, time.Now()
		}
		if time.Now().After(deadline) {
			b.Fatalf("%s: the store never went quiet", what)
		}
	}
	wall := moved.Sub(row.begin)
	return fmt.Sprintf("%s: %d orders, %.1f/s counted to the last append of their work (%.0f ms after the phase's last completion)",
		what, row.n, float64(row.n)/wall.Seconds(), (wall-time.Duration(float64(time.Second)*float64(row.n)/row.perSecond)).Seconds()*1000)
}
