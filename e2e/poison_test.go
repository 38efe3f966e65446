package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/park"
	"github.com/ordo-platform/ordo/pkg/web"
)

// Poison seeds: how many, and how many platforms run at once.
const (
	defaultPoisonSeeds    = 3
	defaultPoisonParallel = 2
)

// TestPoisonEventsAreParkedAndReplayed injects, on each seed's fresh
// platform, events inventory's saga participant cannot process while other
// orders flow: reservation requests whose body does not decode (appended
// straight to the store) and the reservation requests of real orders for
// one product that inventory refuses while it runs with
// ORDO_INVENTORY_REJECT_SKUS naming it (the "bug"). The seed picks the
// product, how many of each poison, the order and moments they arrive
// among the other orders, and the order of the replays. Every poison must
// be parked and reported, every other order confirmed; once inventory
// runs without the fault each poisoned order's request replays once and
// the order is confirmed; the undecodable ones stay parked (422 on
// replay). The auditor then finds every invariant intact.
func TestPoisonEventsAreParkedAndReplayed(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole platform once per seed")
	}
	seeds := seedsFrom(t, "POISON", defaultPoisonSeeds)
	parallel := envInt(t, "ORDO_POISON_PARALLEL", defaultPoisonParallel)
	setLoadEnv(t)
	// The poisoned orders must still wait for their reservations when they
	// are replayed, not be cancelled by the saga's deadline.
	t.Setenv("ORDO_ORDER_SAGA_RESERVATION_TIMEOUT", "5m")
	bins := &toxicBins{dir: t.TempDir()}
	runSeeds(t, seeds, parallel, "ORDO_POISON_SEED=%d go test -run TestPoisonEventsAreParkedAndReplayed ./e2e/",
		func(t *testing.T, seed uint64) { poisonRun(t, bins, seed) })
}

// poisonRun is one seed.
func poisonRun(t *testing.T, bins *toxicBins, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, seed^0x2545f4914f6cdd1d)) //nolint:gosec // a reproducible plan, not crypto
	p := bins.start(t)
	ctx := t.Context()
	admin, customers, skus := prepareShop(t, p.GatewayURL)
	if len(skus) < 2 {
		t.Fatalf("catalog %v: want at least two products", skus)
	}
	poisonSKU := skus[rng.IntN(len(skus))]
	others := slices.DeleteFunc(slices.Clone(skus), func(s string) bool { return s == poisonSKU })
	if err := p.RestartWith(ctx, "inventory", map[string]string{"ORDO_INVENTORY_REJECT_SKUS": poisonSKU}); err != nil {
		t.Fatalf("restart inventory with the fault: %v", err)
	}
	inv := serviceAdmin{base: p.URLs["inventory"]}
	nPoisoned, nUnreadable, nOthers := 1+rng.IntN(3), 1+rng.IntN(2), 4+rng.IntN(8)
	t.Logf("seed %d: %d order(s) of %s refused, %d undecodable request(s), %d other order(s)", seed, nPoisoned, poisonSKU, nUnreadable, nOthers)

	// The poisons, in an order the seed shuffles, at moments it picks.
	type poison struct {
		orderIdx int // -1: an undecodable request
	}
	plan := make([]poison, 0, nPoisoned+nUnreadable)
	for i := range nPoisoned {
		plan = append(plan, poison{orderIdx: i})
	}
	for range nUnreadable {
		plan = append(plan, poison{orderIdx: -1})
	}
	rng.Shuffle(len(plan), func(i, j int) { plan[i], plan[j] = plan[j], plan[i] })
	pauses := make([]time.Duration, len(plan)+nOthers)
	for i := range pauses {
		pauses[i] = time.Duration(rng.IntN(300)) * time.Millisecond
	}
	otherLines := make([][]loadLine, nOthers)
	for i := range otherLines {
		otherLines[i] = []loadLine{{SKU: others[rng.IntN(len(others))], Quantity: 1 + rng.IntN(2)}}
	}
	withSecondLine := make([]bool, nPoisoned)
	for i := range withSecondLine {
		withSecondLine[i] = rng.IntN(2) == 0
	}

	// The other orders flow meanwhile, from a second goroutine.
	otherIDs := map[string]int{}
	var mu sync.Mutex
	var bg sync.WaitGroup
	bg.Go(func() {
		for i, lines := range otherLines {
			time.Sleep(pauses[len(plan)+i])
			o, err := customers[i%2].place(ctx, fmt.Sprintf("poison-%d-other-%d", seed, i), lines, time.Minute)
			if err != nil {
				t.Errorf("place other order %d: %v", i, err)
				return
			}
			mu.Lock()
			otherIDs[o.ID] = i % 2
			mu.Unlock()
		}
	})
	unreadable := map[es.UUID]bool{}
	poisonedIDs := map[string]int{}
	for i, step := range plan {
		time.Sleep(pauses[i])
		if step.orderIdx < 0 {
			id := es.NewUUID()
			if _, err := p.store.Append(ctx, "fulfilment-"+es.NewUUID().String(), es.NoStream, es.EventData{
				ID: id, Type: "fulfilment.reservation_requested", Data: json.RawMessage(`{"order_id": 42, "lines": "none"}`),
				Metadata: es.Metadata{Actor: "e2e"},
			}); err != nil {
				t.Fatal(err)
			}
			unreadable[id] = true
			continue
		}
		lines := []loadLine{{SKU: poisonSKU, Quantity: 1}}
		if withSecondLine[step.orderIdx] {
			lines = append(lines, loadLine{SKU: others[step.orderIdx%len(others)], Quantity: 2})
		}
		o, err := customers[0].place(ctx, fmt.Sprintf("poison-%d-order-%d", seed, step.orderIdx), lines, time.Minute)
		if err != nil {
			t.Fatalf("place poisoned order %d: %v", step.orderIdx, err)
		}
		poisonedIDs[o.ID] = 0
	}
	bg.Wait()
	if t.Failed() {
		return
	}

	entries := inv.waitParked(t, nPoisoned+nUnreadable)
	var orderEntries, unreadableEntries []park.Entry
	for _, e := range entries {
		switch {
		case unreadable[e.EventID]:
			if !strings.Contains(e.Error, "unreadable") {
				t.Errorf("the undecodable request %s parked with %q", e.EventID, e.Error)
			}
			unreadableEntries = append(unreadableEntries, e)
		default:
			id := strings.TrimPrefix(e.Stream, "fulfilment-")
			if _, ok := poisonedIDs[id]; !ok || e.Subscriber != "inventory-fulfilment" || !strings.Contains(e.Error, "refused") {
				t.Fatalf("parked %+v: want the reservation requests of orders %v, refused, and %d undecodable", entries, slices.Collect(maps.Keys(poisonedIDs)), nUnreadable)
			}
			orderEntries = append(orderEntries, e)
		}
	}
	if len(orderEntries) != nPoisoned || len(unreadableEntries) != nUnreadable {
		t.Fatalf("parked %d order request(s) and %d undecodable, want %d and %d: %+v", len(orderEntries), len(unreadableEntries), nPoisoned, nUnreadable, entries)
	}
	if n := parkedInStatus(t, admin)["inventory"]; n != nPoisoned+nUnreadable {
		t.Errorf("the gateway's admin status shows %d parked events in inventory, want %d", n, nPoisoned+nUnreadable)
	}

	// The events behind the parked ones flowed on.
	for id, o := range waitFinal(t, customers, otherIDs, time.Minute) {
		if o.Status != "confirmed" {
			t.Errorf("order %s placed beside the poison ended %s (%s), want confirmed", id, o.Status, o.Reason)
		}
	}
	for id := range poisonedIDs {
		if o, err := customers[0].order(ctx, id); err != nil || o.final() {
			t.Fatalf("poisoned order %s is %+v (%v); it should wait for its parked reservation", id, o, err)
		}
	}

	// The fix, then the replays, in an order the seed picks: each once,
	// however often it is asked for.
	if err := p.RestartWith(ctx, "inventory", map[string]string{"ORDO_INVENTORY_REJECT_SKUS": ""}); err != nil {
		t.Fatalf("restart inventory without the fault: %v", err)
	}
	rng.Shuffle(len(orderEntries), func(i, j int) { orderEntries[i], orderEntries[j] = orderEntries[j], orderEntries[i] })
	for _, e := range orderEntries {
		var res park.Result
		if code := inv.replay(t, e.ID, &res); code != http.StatusOK || res.Entry.Status != park.Replayed || len(res.Replayed) != 1 {
			t.Fatalf("replay of %s after the fix: %d %+v", e.Stream, code, res)
		}
	}
	again := orderEntries[rng.IntN(len(orderEntries))]
	var res park.Result
	if code := inv.replay(t, again.ID, &res); code != http.StatusOK || !res.Already {
		t.Fatalf("second replay of %s: %d %+v; want already replayed", again.Stream, code, res)
	}
	for _, e := range unreadableEntries {
		if code := inv.replay(t, e.ID, nil); code != http.StatusUnprocessableEntity {
			t.Errorf("replay of the undecodable request %s: %d, want 422 (it stays parked)", e.EventID, code)
		}
	}
	for id, o := range waitFinal(t, customers, poisonedIDs, time.Minute) {
		if o.Status != "confirmed" {
			t.Errorf("replayed order %s ended %s (%s), want confirmed", id, o.Status, o.Reason)
		}
	}
	left := inv.waitParked(t, nUnreadable)
	for _, e := range left {
		if !unreadable[e.EventID] {
			t.Errorf("still parked %+v: want only the undecodable requests", left)
			break
		}
	}

	p.auditQuiet(t, "after the replay")
}

// serviceAdmin calls a service's admin API directly, as an admin whose
// identity is signed with the launcher's default secret.
type serviceAdmin struct{ base string }

func (s serviceAdmin) do(t *testing.T, method, path string, out any) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, s.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(web.HeaderIdentity, web.SignIdentity([]byte("ordo-dev-identity-secret"), web.Identity{User: "e2e", Role: web.RoleAdmin}, time.Now()))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK && out != nil {
		if err := json.NewDecoder(bytes.NewReader(body)).Decode(out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, body)
		}
	}
	return resp.StatusCode
}

// waitParked waits until the service lists n parked events and returns them.
func (s serviceAdmin) waitParked(t *testing.T, n int) []park.Entry {
	t.Helper()
	var list struct {
		Entries []park.Entry `json:"entries"`
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		code := s.do(t, http.MethodGet, "/admin/parked", &list)
		if code == http.StatusOK && len(list.Entries) == n {
			return list.Entries
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s lists %d parked events (status %d), want %d: %+v", s.base, len(list.Entries), code, n, list.Entries)
		}
	}
}

func (s serviceAdmin) replay(t *testing.T, id es.UUID, out *park.Result) int {
	t.Helper()
	var res park.Result
	code := s.do(t, http.MethodPost, "/admin/parked/"+id.String()+"/replay", &res)
	if out != nil {
		*out = res
	}
	return code
}

// parkedInStatus reads the parked counts per service from the gateway's
// admin status.
func parkedInStatus(t *testing.T, admin *loadClient) map[string]int {
	t.Helper()
	var status struct {
		Services map[string]struct {
			Parked *park.Counts `json:"parked"`
		} `json:"services"`
	}
	if err := admin.call(context.WithoutCancel(t.Context()), http.MethodGet, "/api/v1/admin/status", nil, nil, &status); err != nil {
		t.Fatalf("admin status: %v", err)
	}
	out := map[string]int{}
	for name, s := range status.Services {
		if s.Parked != nil {
			out[name] = s.Parked.Parked
		}
	}
	return out
}
