package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Crash test knobs. ORDO_CRASH_SEED replays one seed; ORDO_CRASH_SEEDS
// sets how many random seeds run; ORDO_CRASH_ORDERS how many orders each
// places; ORDO_CRASH_RATE how many per second.
const (
	defaultCrashSeeds  = 5
	defaultCrashOrders = 300
	// defaultCrashRate paces the placements (orders per second, all
	// workers together), so the kills fall among traffic the platform can
	// carry instead of after a burst has been accepted.
	defaultCrashRate = 30
	// scarceSKU is never restocked (the catalog seeds 10): the orders that
	// ask for it deliberately exceed the stock between them.
	scarceSKU = "GRD-BURR-01"
)

// victims are the services the crash test kills: the saga's home and its
// two participants.
var victims = []string{"order", "inventory", "payment"}

// TestSagaSurvivesCrashes places orders while the provider misbehaves and
// the order, inventory and payment services are killed with SIGKILL and
// restarted at random moments; once everything is quiet the auditor must
// find every invariant of DESIGN.md intact.
func TestSagaSurvivesCrashes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole platform once per seed")
	}
	seeds := seedsFrom(t, "CRASH", defaultCrashSeeds)
	orders := envInt(t, "ORDO_CRASH_ORDERS", defaultCrashOrders)
	rate := envInt(t, "ORDO_CRASH_RATE", defaultCrashRate)
	// The saga keeps its shop deadlines (30s): with 10s, 2 shared cores
	// fell behind a burst of 300 orders and most ended out_of_stock by the
	// reservation deadline, which tests the deadlines more than the crashes.
	setLoadEnv(t)
	binDir := t.TempDir()
	for i, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Logf("seed %d (replay with ORDO_CRASH_SEED=%d), %d orders", seed, seed, orders)
			crashRun(t, binDir, i == 0, seed, orders, rate)
		})
	}
}

// seedsFrom returns the one seed in env ORDO_<name>_SEED when set (a
// replay), else ORDO_<name>_SEEDS (default def) fresh seeds, small enough
// to type.
func seedsFrom(t *testing.T, name string, def int) []uint64 {
	t.Helper()
	if s := os.Getenv("ORDO_" + name + "_SEED"); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("ORDO_%s_SEED=%q: %v", name, s, err)
		}
		return []uint64{seed}
	}
	n := envInt(t, "ORDO_"+name+"_SEEDS", def)
	base := uint64(time.Now().UnixNano()) //nolint:gosec // a seed, printed
	seeds := make([]uint64, n)
	for i := range seeds {
		seeds[i] = (base + uint64(i)*7919) % 1_000_000_000 //nolint:gosec // small enough to type
	}
	return seeds
}

func envInt(t *testing.T, key string, def int) int {
	t.Helper()
	s := os.Getenv(key)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive integer", key, s)
	}
	return n
}

// crashRun is one seed: a fresh platform, random faults, orders and kills,
// then quiet and the audit.
func crashRun(t *testing.T, binDir string, build bool, seed uint64, n, rate int) {
	start := time.Now()
	p := startLoadPlatform(t, binDir, build)
	started := time.Now()
	ctx := t.Context()
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) //nolint:gosec // reproducible chaos, not crypto
	admin, customers, skus := prepareShop(t, p.GatewayURL)

	f := loadFaults{DeclineRate: rng.Float64() * 0.2, ErrorRate: rng.Float64() * 0.3,
		LostResponseRate: rng.Float64() * 0.2, LatencyMS: rng.IntN(30)}
	if err := admin.setFaults(ctx, f); err != nil {
		t.Fatalf("set faults: %v", err)
	}
	var got loadFaults
	if err := admin.call(ctx, "GET", "/api/v1/admin/faults", nil, nil, &got); err != nil || got != f {
		t.Fatalf("faults read back %+v (%v), set %+v", got, err, f)
	}
	t.Logf("faults %+v", f)
	plans := planOrders(rng, n, skus, len(customers))
	kills := newChaos(p, rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))) //nolint:gosec // as above

	placeCtx, stopChaos := context.WithCancel(ctx)
	chaosDone := make(chan struct{})
	go func() { defer close(chaosDone); kills.run(placeCtx) }()
	ids, errs := placeAll(ctx, customers, plans, 16, rate)
	stopChaos()
	<-chaosDone
	placed := time.Now()
	if kills.err != nil {
		t.Fatalf("chaos: %v", kills.err)
	}
	t.Logf("placed %d/%d orders in %v with %d kills: %s", len(ids), n, placed.Sub(started).Round(time.Millisecond),
		len(kills.log), strings.Join(kills.log, ", "))
	if len(errs) > 0 {
		t.Errorf("%d orders could not be placed within their retry bound; first: %v", len(errs), errs[0])
	}

	if err := admin.setFaults(ctx, loadFaults{}); err != nil {
		t.Fatalf("clear faults: %v", err)
	}
	statuses := waitFinal(t, customers, ids, 2*time.Minute)
	settled := time.Now()
	t.Logf("outcomes: %s (settled %v after the last placement)", summarize(statuses), settled.Sub(placed).Round(time.Millisecond))

	// A payment called off while a kill lost its charge's answer is settled
	// by the payment reconciler (within CalledOffGrace plus one
	// --reconcile-every, 10 s): the books must balance within a minute.
	p.auditWithin(t, fmt.Sprintf("seed %d", seed), time.Minute)
	t.Logf("seed took %v (start %v, load %v, settle %v, quiet and audit %v)",
		time.Since(start).Round(time.Millisecond), started.Sub(start).Round(time.Millisecond),
		placed.Sub(started).Round(time.Millisecond), settled.Sub(placed).Round(time.Millisecond),
		time.Since(settled).Round(time.Millisecond))
}

// prepareShop logs in the admin and both customers and restocks every SKU
// but the scarce one generously. It returns the SKUs orders may use.
func prepareShop(t testing.TB, gateway string) (*loadClient, []*loadClient, []string) {
	t.Helper()
	ctx := t.Context()
	admin, err := newLoadClient(ctx, gateway, "admin")
	if err != nil {
		t.Fatalf("login admin: %v", err)
	}
	var customers []*loadClient
	for _, u := range []string{"alice", "bob"} {
		c, err := newLoadClient(ctx, gateway, u)
		if err != nil {
			t.Fatalf("login %s: %v", u, err)
		}
		customers = append(customers, c)
	}
	// The catalog read model may still be catching up with inventory's
	// first-start seed: wait until it holds the scarce SKU and two reads in
	// a row agree.
	var prods []loadProduct
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		now, err := admin.products(ctx)
		if err != nil {
			t.Fatalf("products: %v", err)
		}
		seeded := slices.ContainsFunc(now, func(p loadProduct) bool { return p.SKU == scarceSKU })
		if (seeded && len(now) == len(prods)) || time.Now().After(deadline) {
			prods = now
			break
		}
		prods = now
	}
	var skus []string
	for _, pr := range prods {
		if pr.SKU == scarceSKU {
			continue
		}
		skus = append(skus, pr.SKU)
		if err := admin.restock(ctx, pr.SKU, 1000); err != nil {
			t.Fatalf("restock %s: %v", pr.SKU, err)
		}
	}
	if len(skus) == 0 || !slices.ContainsFunc(prods, func(p loadProduct) bool { return p.SKU == scarceSKU }) {
		t.Fatalf("catalog %+v lacks products or the scarce %s", prods, scarceSKU)
	}
	return admin, customers, skus
}

// orderPlan is one order to place: whose, under which key, what.
type orderPlan struct {
	customer int
	key      string
	lines    []loadLine
}

// planOrders draws every order up front, so a seed decides them all
// whatever the goroutines' timing. One in ten asks for 5–20 of the scarce
// SKU, beside an ordinary line.
func planOrders(rng *rand.Rand, n int, skus []string, customers int) []orderPlan {
	plans := make([]orderPlan, n)
	for i := range plans {
		lines := []loadLine{}
		for _, j := range rng.Perm(len(skus))[:1+rng.IntN(min(3, len(skus)))] {
			lines = append(lines, loadLine{SKU: skus[j], Quantity: 1 + rng.IntN(5)})
		}
		if rng.IntN(10) == 0 {
			lines = append(lines, loadLine{SKU: scarceSKU, Quantity: 5 + rng.IntN(16)})
		}
		plans[i] = orderPlan{customer: rng.IntN(customers), key: fmt.Sprintf("crash-%016x", rng.Uint64()), lines: lines}
	}
	return plans
}

// placeAll places the plans with workers goroutines and returns the
// accepted orders' ids (with their customer) and the failures.
func placeAll(ctx context.Context, customers []*loadClient, plans []orderPlan, workers, rate int) (map[string]int, []error) {
	var mu sync.Mutex
	ids := map[string]int{}
	var errs []error
	next := make(chan orderPlan)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for pl := range next {
				o, err := customers[pl.customer].place(ctx, pl.key, pl.lines, time.Minute)
				mu.Lock()
				if err != nil {
					errs = append(errs, fmt.Errorf("order %s: %w", pl.key, err))
				} else {
					ids[o.ID] = pl.customer
				}
				mu.Unlock()
			}
		})
	}
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	for _, pl := range plans {
		<-tick.C
		next <- pl
	}
	close(next)
	wg.Wait()
	return ids, errs
}

// waitFinal polls every order through the gateway until all are confirmed
// or cancelled, failing the test with the stragglers after within.
func waitFinal(t *testing.T, customers []*loadClient, ids map[string]int, within time.Duration) map[string]loadOrder {
	t.Helper()
	ctx := t.Context()
	deadline := time.Now().Add(within)
	got := map[string]loadOrder{}
	for {
		var pending []string
		for id, cust := range ids {
			if got[id].final() {
				continue
			}
			o, err := customers[cust].order(ctx, id)
			if err == nil {
				got[id] = o
			}
			if !got[id].final() {
				pending = append(pending, id)
			}
		}
		if len(pending) == 0 {
			return got
		}
		if time.Now().After(deadline) {
			slices.Sort(pending)
			t.Fatalf("%d orders not final after %v: %s …", len(pending), within, strings.Join(pending[:min(10, len(pending))], " "))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func summarize(orders map[string]loadOrder) string {
	count := map[string]int{}
	for _, o := range orders {
		k := o.Status
		if o.Reason != "" {
			k += "/" + o.Reason
		}
		count[k]++
	}
	var parts []string
	for _, k := range sortedKeys(count) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, count[k]))
	}
	return strings.Join(parts, " ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
