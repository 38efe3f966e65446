package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/park"
	"github.com/ordo-platform/ordo/pkg/web"
)

// poisonSKU is the product whose saga requests inventory refuses while it
// runs with ORDO_INVENTORY_REJECT_SKUS naming it: the "bug" that the
// restart without the setting "fixes".
const poisonSKU = "MUG-STONE-350"

// TestPoisonEventsAreParkedAndReplayed injects two events inventory's saga
// participant cannot process into the running platform: a reservation
// request whose body does not decode (appended straight to the store) and
// the reservation request of a real order for poisonSKU. Both must be
// parked and reported, orders placed afterwards must complete, and once
// inventory runs without the fault the order's request must replay once
// and the order complete; the undecodable one stays parked. The auditor
// then finds every invariant intact.
func TestPoisonEventsAreParkedAndReplayed(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole platform")
	}
	t.Setenv("ORDO_INVENTORY_REJECT_SKUS", poisonSKU)
	// The poisoned order must still be waiting for its reservation when it
	// is replayed, not cancelled by the saga's deadline.
	t.Setenv("ORDO_ORDER_SAGA_RESERVATION_TIMEOUT", "5m")
	p := startLoadPlatform(t, t.TempDir(), true)
	ctx := t.Context()
	admin, customers, skus := prepareShop(t, p.GatewayURL)
	others := slices.DeleteFunc(slices.Clone(skus), func(s string) bool { return s == poisonSKU })
	if len(others) == len(skus) || len(others) == 0 {
		t.Fatalf("catalog %v: want %s and others", skus, poisonSKU)
	}
	inv := serviceAdmin{base: p.URLs["inventory"]}

	unreadable := es.NewUUID()
	if _, err := p.store.Append(ctx, "fulfilment-"+es.NewUUID().String(), es.NoStream, es.EventData{
		ID: unreadable, Type: "fulfilment.reservation_requested", Data: json.RawMessage(`{"order_id": 42, "lines": "none"}`),
		Metadata: es.Metadata{Actor: "e2e"},
	}); err != nil {
		t.Fatal(err)
	}
	poisoned, err := customers[0].place(ctx, "poison-order", []loadLine{{SKU: poisonSKU, Quantity: 1}, {SKU: others[0], Quantity: 2}}, time.Minute)
	if err != nil {
		t.Fatalf("place the poisoned order: %v", err)
	}

	entries := inv.waitParked(t, 2)
	byStream := map[string]park.Entry{}
	for _, e := range entries {
		byStream[e.Stream] = e
	}
	orderEntry, ok := byStream["fulfilment-"+poisoned.ID]
	if !ok || orderEntry.Subscriber != "inventory-fulfilment" || !strings.Contains(orderEntry.Error, "refused") {
		t.Fatalf("parked %+v: want the reservation request of order %s, refused", entries, poisoned.ID)
	}
	unreadableEntry := entries[slices.IndexFunc(entries, func(e park.Entry) bool { return e.EventID == unreadable })]
	if !strings.Contains(unreadableEntry.Error, "unreadable") {
		t.Errorf("the undecodable request parked with %q", unreadableEntry.Error)
	}
	if n := parkedInStatus(t, admin)["inventory"]; n != 2 {
		t.Errorf("the gateway's admin status shows %d parked events in inventory, want 2", n)
	}

	// The events behind the parked ones flow on.
	ids := map[string]int{}
	for i := range 3 {
		o, err := customers[i%2].place(ctx, fmt.Sprintf("after-poison-%d", i), []loadLine{{SKU: others[i%len(others)], Quantity: 1}}, time.Minute)
		if err != nil {
			t.Fatalf("place order %d: %v", i, err)
		}
		ids[o.ID] = i % 2
	}
	for id, o := range waitFinal(t, customers, ids, time.Minute) {
		if o.Status != "confirmed" {
			t.Errorf("order %s placed after the poison ended %s (%s), want confirmed", id, o.Status, o.Reason)
		}
	}
	if o, err := customers[0].order(ctx, poisoned.ID); err != nil || o.final() {
		t.Fatalf("the poisoned order is %+v (%v); it should wait for its parked reservation", o, err)
	}

	// The fix, then the replay: once, however often it is asked for.
	if err := p.RestartWith(ctx, "inventory", map[string]string{"ORDO_INVENTORY_REJECT_SKUS": ""}); err != nil {
		t.Fatalf("restart inventory without the fault: %v", err)
	}
	var res park.Result
	if code := inv.replay(t, orderEntry.ID, &res); code != http.StatusOK || res.Entry.Status != park.Replayed || len(res.Replayed) != 1 {
		t.Fatalf("replay after the fix: %d %+v", code, res)
	}
	if code := inv.replay(t, orderEntry.ID, &res); code != http.StatusOK || !res.Already {
		t.Fatalf("second replay: %d %+v; want already replayed", code, res)
	}
	if code := inv.replay(t, unreadableEntry.ID, nil); code != http.StatusUnprocessableEntity {
		t.Errorf("replay of the undecodable request: %d, want 422 (it stays parked)", code)
	}
	if o := waitFinal(t, customers, map[string]int{poisoned.ID: 0}, time.Minute)[poisoned.ID]; o.Status != "confirmed" {
		t.Fatalf("the replayed order ended %s (%s), want confirmed", o.Status, o.Reason)
	}
	if left := inv.waitParked(t, 1); len(left) != 1 || left[0].EventID != unreadable {
		t.Errorf("still parked %+v, want only the undecodable request", left)
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
