package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/money"
	"github.com/ordo-platform/ordo/pkg/web"
	"github.com/ordo-platform/ordo/services/inventory"
	"github.com/ordo-platform/ordo/services/order"
	"github.com/ordo-platform/ordo/services/order/internal/readmodel"
)

func TestPlacePricesFromCatalogAndReadsOwnWrite(t *testing.T) {
	en := newEnv(t)
	const trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	res := en.doHeaders("POST", "/orders", alice,
		`{"lines":[{"sku":"MUG-STONE-350","quantity":2},{"sku":"COF-ETH-250","quantity":1},{"sku":"MUG-STONE-350","quantity":1}]}`,
		map[string]string{"traceparent": trace, "X-Request-Id": "req-1"})
	if res.status != http.StatusAccepted {
		t.Fatalf("status %d, body %s", res.status, res.body)
	}
	var p placed
	res.decode(t, &p)
	if _, err := es.ParseUUID(p.ID); err != nil || p.Status != "pending" {
		t.Fatalf("response %+v", p)
	}
	if loc := res.header.Get("Location"); loc != "/orders/"+p.ID {
		t.Errorf("Location %q", loc)
	}
	pos, err := es.ParsePosition(p.Position)
	if err != nil {
		t.Fatal(err)
	}

	got := en.view(alice, p.ID, p.Position)
	want := readmodel.OrderView{
		ID: p.ID, Customer: "alice", Status: order.StatusPending,
		Lines: []order.Line{
			{SKU: "MUG-STONE-350", Quantity: 3, UnitPrice: money.Euros(1490)},
			{SKU: "COF-ETH-250", Quantity: 1, UnitPrice: money.Euros(1290)},
		},
		Total: money.Euros(3*1490 + 1290),
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(readmodel.OrderView{}, "PlacedAt", "UpdatedAt")); diff != "" {
		t.Errorf("view (-want +got):\n%s", diff)
	}
	if got.PlacedAt.IsZero() || !got.UpdatedAt.Equal(got.PlacedAt) || got.PlacedAt.Location().String() != "UTC" {
		t.Errorf("times: placed %v updated %v", got.PlacedAt, got.UpdatedAt)
	}

	events := en.orderEvents()
	if len(events) != 1 || events[0].Type != order.TypePlaced || events[0].Position != pos {
		t.Fatalf("events %+v, want one order.placed at %s", events, pos)
	}
	wantMD := es.Metadata{CorrelationID: p.ID, CausationID: "req-1", TraceParent: trace, Actor: "alice", SchemaVersion: 1}
	if diff := cmp.Diff(wantMD, events[0].Metadata); diff != "" {
		t.Errorf("metadata (-want +got):\n%s", diff)
	}
}

func TestPlaceUsesCurrentPriceAndKeepsOldOrders(t *testing.T) {
	en := newEnv(t)
	before := en.place(alice, `{"lines":[{"sku":"KTL-GOOSE-1L","quantity":2}]}`)
	en.appendProduct(inventory.ProductPriceChanged{SKU: "KTL-GOOSE-1L", Price: money.Euros(3990), PreviousPrice: money.Euros(4990)})
	// A product added after the first order is orderable too.
	en.appendProduct(inventory.ProductAdded{SKU: "NEW-SKU-1", Name: "new", Price: money.Euros(100)})
	after := en.place(alice, `{"lines":[{"sku":"KTL-GOOSE-1L","quantity":2},{"sku":"NEW-SKU-1","quantity":3}]}`)

	if v := en.view(alice, before.ID, before.Position); v.Total != money.Euros(2*4990) {
		t.Errorf("order placed before the change: total %v, want 99.80 EUR", v.Total)
	}
	if v := en.view(alice, after.ID, after.Position); v.Total != money.Euros(2*3990+300) || v.Lines[0].UnitPrice != money.Euros(3990) {
		t.Errorf("order placed after the change: %+v", v)
	}
}

func TestPlaceRejectsBadInput(t *testing.T) {
	en := newEnv(t)
	many := make([]string, order.MaxLines+1)
	for i := range many {
		many[i] = `{"sku":"COF-ETH-250","quantity":1}`
	}
	tests := []struct {
		name   string
		who    web.Identity
		body   string
		status int
		detail string
	}{
		{"malformed JSON", alice, `{"lines":[{"sku":`, 400, "malformed JSON"},
		{"not an object", alice, `[1,2]`, 400, "must be a JSON"},
		{"unknown field", alice, `{"lines":[{"sku":"COF-ETH-250","quantity":1}],"coupon":"FREE"}`, 400, `unknown field "coupon"`},
		{"total sent", alice, `{"lines":[{"sku":"COF-ETH-250","quantity":1}],"total":{"amount":1,"currency":"EUR"}}`, 400, `unknown field "total"`},
		{"status sent", alice, `{"lines":[{"sku":"COF-ETH-250","quantity":1}],"status":"confirmed"}`, 400, `unknown field "status"`},
		{"price sent", alice, `{"lines":[{"sku":"COF-ETH-250","quantity":1}],"price":1}`, 400, `unknown field "price"`},
		{"unit_price in a line", alice, `{"lines":[{"sku":"COF-ETH-250","quantity":1,"unit_price":{"amount":1,"currency":"EUR"}}]}`, 400, `unknown field "unit_price"`},
		{"price in a line", alice, `{"lines":[{"sku":"COF-ETH-250","quantity":1,"price":1}]}`, 400, `unknown field "price"`},
		{"quantity not a number", alice, `{"lines":[{"sku":"COF-ETH-250","quantity":"2"}]}`, 400, `must be an integer`},
		{"quantity fractional", alice, `{"lines":[{"sku":"COF-ETH-250","quantity":1.5}]}`, 400, `must be an integer`},
		{"unknown SKU", alice, `{"lines":[{"sku":"COF-ETH-250","quantity":1},{"sku":"NOPE-42","quantity":1}]}`, 400, `"NOPE-42" is not in the catalog`},
		{"quantity 0", alice, `{"lines":[{"sku":"COF-ETH-250","quantity":0}]}`, 400, "quantity 0, want 1 to 100"},
		{"quantity missing", alice, `{"lines":[{"sku":"COF-ETH-250"}]}`, 400, "quantity 0, want 1 to 100"},
		{"quantity negative", alice, `{"lines":[{"sku":"COF-ETH-250","quantity":-3}]}`, 400, "quantity -3"},
		{"quantity over max", alice, `{"lines":[{"sku":"COF-ETH-250","quantity":101}]}`, 400, "quantity 101"},
		{"merged quantity over max", alice, `{"lines":[{"sku":"COF-ETH-250","quantity":60},{"sku":"COF-ETH-250","quantity":41}]}`, 400, "101 units in all"},
		{"no lines", alice, `{"lines":[]}`, 400, "1 to 50 items, not 0"},
		{"lines missing", alice, `{}`, 400, "1 to 50 items, not 0"},
		{"lines null", alice, `{"lines":null}`, 400, "1 to 50 items, not 0"},
		{"too many lines", alice, `{"lines":[` + strings.Join(many, ",") + `]}`, 400, "not 51"},
		{"empty body", alice, ``, 400, "request body is empty"},
		{"oversized body", alice, `{"lines":[{"sku":"` + strings.Repeat("X", 70<<10) + `","quantity":1}]}`, 413, "larger than"},
		{"no identity", nobody, `{"lines":[{"sku":"COF-ETH-250","quantity":1}]}`, 401, "Ordo-Identity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := en.do("POST", "/orders", tt.who, tt.body)
			if res.status != tt.status {
				t.Fatalf("status %d, want %d; body %s", res.status, tt.status, res.body)
			}
			if p := res.problem(t); p.Status != tt.status || !strings.Contains(p.Detail, tt.detail) {
				t.Errorf("problem %+v, want detail containing %q", p, tt.detail)
			}
		})
	}
	t.Run("wrong media type", func(t *testing.T) {
		res := en.doHeaders("POST", "/orders", alice, `{"lines":[{"sku":"COF-ETH-250","quantity":1}]}`, map[string]string{"Content-Type": "text/plain"})
		if res.status != 400 {
			t.Fatalf("status %d", res.status)
		}
	})
	t.Run("forged identity", func(t *testing.T) {
		forged := strings.Replace(web.SignIdentity(secret, bob, time.Now()), "bob", "alice", 1)
		res := en.doHeaders("POST", "/orders", nobody, `{"lines":[{"sku":"COF-ETH-250","quantity":1}]}`, map[string]string{web.HeaderIdentity: forged})
		if res.status != 401 {
			t.Fatalf("status %d", res.status)
		}
	})
	assertNothingWritten(t, en)
}

// assertNothingWritten checks that no order event reached the store and the
// read model shows no order, once it has caught up with everything.
func assertNothingWritten(t *testing.T, en *env) {
	t.Helper()
	if events := en.orderEvents(); len(events) != 0 {
		t.Fatalf("rejected requests wrote %d order events: %+v", len(events), events)
	}
	for _, who := range []web.Identity{alice, bob} {
		res := en.read(fmt.Sprintf("/orders?min_position=%s", en.head()), who)
		var page struct{ Items []readmodel.OrderView }
		res.decode(t, &page)
		if res.status != 200 || len(page.Items) != 0 {
			t.Fatalf("%s's orders after rejections: %d %s", who.User, res.status, res.body)
		}
	}
	keys, err := en.rdb.Keys(context.Background(), en.prefix+readmodel.OrdersName+":*:order:*").Result()
	if err != nil || len(keys) != 0 {
		t.Fatalf("order views in Redis: %v %v", keys, err)
	}
}
