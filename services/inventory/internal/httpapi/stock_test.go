package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/labstack/echo/v4"

	"github.com/ordo-platform/ordo/pkg/es"

	"github.com/ordo-platform/ordo/services/inventory"
	"github.com/ordo-platform/ordo/services/inventory/internal/app"
)

type reservation struct {
	Position string `json:"position"`
	Status   string `json:"status"`
}

func reserve(t *testing.T, e *echo.Echo, sku, orderID string, qty int) reservation {
	t.Helper()
	r := do(t, e, saga, "POST", "/stock/"+sku+"/reservations", fmt.Sprintf(`{"order_id":%q,"quantity":%d}`, orderID, qty))
	if r.status != http.StatusAccepted {
		t.Fatalf("reserve %d of %s for %s: %d %s", qty, sku, orderID, r.status, r.body)
	}
	var res reservation
	r.decode(t, &res)
	return res
}

// post sends a body-less write and returns its position.
func post(t *testing.T, v *env, path string, status int) string {
	t.Helper()
	r := do(t, v.e, saga, "POST", path, "")
	if r.status != status {
		t.Fatalf("POST %s: %d %s, want %d", path, r.status, r.body, status)
	}
	var w struct{ Position string }
	if status == http.StatusAccepted {
		r.decode(t, &w)
	}
	return w.Position
}

func TestReservationLifecycle(t *testing.T) {
	v := newEnv(t)
	const sku = "GRD-BURR-01"
	first := reserve(t, v.e, sku, "order-1", 4)
	if first.Status != "reserved" {
		t.Fatalf("reserve: %+v", first)
	}
	if again := reserve(t, v.e, sku, "order-1", 4); again != first {
		t.Fatalf("repeated reserve %+v, want the first answer %+v", again, first)
	}
	if got := getProduct(t, v, sku, "?min_position="+first.Position); got.Available != 6 {
		t.Fatalf("available after reserving 4 of 10: %d", got.Available)
	}
	if r := reserve(t, v.e, sku, "order-2", 7); r.Status != "rejected" {
		t.Fatalf("reserve 7 of 6: %+v", r)
	}
	post(t, v, "/stock/"+sku+"/reservations/order-2/commit", http.StatusConflict)
	pos := post(t, v, "/stock/"+sku+"/reservations/order-1/commit", http.StatusAccepted)
	if again := post(t, v, "/stock/"+sku+"/reservations/order-1/commit", http.StatusAccepted); again != pos {
		t.Errorf("repeated commit answered position %s, want %s", again, pos)
	}
	post(t, v, "/stock/"+sku+"/reservations/order-1/release", http.StatusConflict)

	r3 := reserve(t, v.e, sku, "order-3", 6)
	pos = post(t, v, "/stock/"+sku+"/reservations/order-3/release", http.StatusAccepted)
	if got := getProduct(t, v, sku, "?min_position="+pos); got.Available != 6 {
		t.Fatalf("available after commit 4, reserve and release 6: %d", got.Available)
	}
	post(t, v, "/stock/"+sku+"/reservations/order-4/release", http.StatusAccepted) // a barrier
	if r := reserve(t, v.e, sku, "order-4", 1); r.Status != "released" {
		t.Fatalf("reserve after its release: %+v", r)
	}
	if r3.Status != "reserved" {
		t.Fatalf("order-3: %+v", r3)
	}

	events := v.stockEvents(t, sku)
	last := events[len(events)-1]
	want := es.Metadata{CorrelationID: "order-4", Actor: "order-saga", SchemaVersion: 1}
	if diff := cmp.Diff(want, last.Metadata, cmpIgnoreCause); diff != "" || last.Metadata.CausationID == "" {
		t.Errorf("metadata (-want +got):\n%s", diff)
	}
}

var cmpIgnoreCause = cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".CausationID" }, cmp.Ignore())

func TestTraceParentIsStored(t *testing.T) {
	v := newEnv(t)
	const tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	for order, header := range map[string]string{"o-tp": tp, "o-bad": "junk"} {
		req := request(t, saga, "POST", "/stock/BAG-CANVAS/reservations/"+order+"/release", "")
		req.Header.Set("traceparent", header)
		if r := send(v.e, req); r.status != http.StatusAccepted {
			t.Fatalf("%s: %d %s", order, r.status, r.body)
		}
	}
	got := map[string]string{}
	for _, e := range v.stockEvents(t, "BAG-CANVAS") {
		got[e.Metadata.CorrelationID] = e.Metadata.TraceParent
	}
	if diff := cmp.Diff(map[string]string{"": "", "o-tp": tp, "o-bad": ""}, got); diff != "" {
		t.Fatalf("traceparent by order (-want +got):\n%s", diff)
	}
}

func TestReservationRejected(t *testing.T) {
	v := newEnv(t)
	const path = "/stock/GRD-BURR-01/reservations"
	long := strings.Repeat("o", 101)
	checkRejections(t, v, []rejection{
		{"no identity", nobody, "POST", path, `{"order_id":"o1","quantity":1}`, 401, "unauthenticated", "Ordo-Identity"},
		{"malformed JSON", saga, "POST", path, `{"order_id":"o1",`, 400, "invalid", "malformed JSON"},
		{"unknown field", saga, "POST", path, `{"order_id":"o1","quantity":1,"sku":"X"}`, 400, "invalid", `unknown field "sku"`},
		{"zero quantity", saga, "POST", path, `{"order_id":"o1","quantity":0}`, 400, "invalid", "quantity 0"},
		{"negative quantity", saga, "POST", path, `{"order_id":"o1","quantity":-1}`, 400, "invalid", "quantity -1"},
		{"missing order", saga, "POST", path, `{"quantity":1}`, 400, "invalid", "order id"},
		{"order id too long", saga, "POST", path, `{"order_id":"` + long + `","quantity":1}`, 400, "invalid", "order id"},
		{"unknown SKU", saga, "POST", "/stock/NOPE-1/reservations", `{"order_id":"o1","quantity":1}`, 404, "not-found", "NOPE-1"},
		{"oversized body", saga, "POST", path, `{"order_id":"` + strings.Repeat("o", 20_000) + `","quantity":1}`, 413, "too-large", ""},
		{"release without identity", nobody, "POST", path + "/o1/release", "", 401, "unauthenticated", ""},
		{"release of unknown SKU", saga, "POST", "/stock/NOPE-1/reservations/o1/release", "", 404, "not-found", ""},
		{"release with a too long order id", saga, "POST", path + "/" + long + "/release", "", 400, "invalid", "order id"},
		{"commit without identity", nobody, "POST", path + "/o1/commit", "", 401, "unauthenticated", ""},
		{"commit of unknown SKU", saga, "POST", "/stock/NOPE-1/reservations/o1/commit", "", 404, "not-found", ""},
		{"commit with nothing reserved", saga, "POST", path + "/o1/commit", "", 409, "conflict", "no reservation"},
		{"wrong method", saga, "GET", path, "", 405, "http-405", ""},
	})
}

// TestReservationRace: 50 orders of one unit each race for a SKU with
// exactly 10, through two replicas (so both the in-process SKU lock and
// the store's optimistic concurrency are in play).
func TestReservationRace(t *testing.T) {
	v := newEnv(t)
	const sku, orders = "GRD-BURR-01", 50
	replicas := []*echo.Echo{v.e, v.instance(t)}
	statuses := make([]string, orders)
	var wg sync.WaitGroup
	for i := range orders {
		wg.Go(func() {
			r := do(t, replicas[i%2], saga, "POST", "/stock/"+sku+"/reservations", fmt.Sprintf(`{"order_id":"race-%02d","quantity":1}`, i))
			if r.status != http.StatusAccepted {
				t.Errorf("order %d: %d %s", i, r.status, r.body)
				return
			}
			var res reservation
			r.decode(t, &res)
			statuses[i] = res.Status
		})
	}
	wg.Wait()
	count := map[string]int{}
	for _, s := range statuses {
		count[s]++
	}
	if diff := cmp.Diff(map[string]int{"reserved": 10, "rejected": 40}, count); diff != "" {
		t.Fatalf("outcomes (-want +got):\n%s", diff)
	}
	checkStockNeverNegative(t, v, sku, 10, 40)
	if got := getProduct(t, v, sku, "?min_position="+v.lastPosition(t, "stock-"+sku).String()); got.Available != 0 {
		t.Fatalf("read model available %d, want 0", got.Available)
	}
}

// checkStockNeverNegative folds the SKU's events one by one and checks
// that no version ever had negative stock, and that every event's own
// record of the units agrees with the fold.
func checkStockNeverNegative(t *testing.T, v *env, sku string, reserved, rejected int) {
	t.Helper()
	reg := app.NewRegistry()
	st := inventory.StockAggregate.Initial(sku)
	kinds := map[string]int{}
	for _, e := range v.stockEvents(t, sku) {
		ev, err := reg.Decode(e.Type, e.Data)
		if err != nil {
			t.Fatal(err)
		}
		st = inventory.StockAggregate.Apply(st, ev)
		kinds[e.Type]++
		if st.Available() < 0 || st.OnHand < 0 || st.Reserved < 0 {
			t.Fatalf("version %d (%s): on hand %d, reserved %d, available %d", e.Version, e.Type, st.OnHand, st.Reserved, st.Available())
		}
		if r, ok := ev.(inventory.StockReserved); ok && r.Available != st.Available() {
			t.Fatalf("version %d records available %d, the fold says %d", e.Version, r.Available, st.Available())
		}
	}
	want := map[string]int{inventory.TypeStockRestocked: 1, inventory.TypeStockReserved: reserved, inventory.TypeStockReservationRejected: rejected}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Fatalf("stock events (-want +got):\n%s", diff)
	}
	if st.Available() != 0 {
		t.Fatalf("available at the end: %d, want 0", st.Available())
	}
}
