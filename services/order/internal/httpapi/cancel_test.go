package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/web"
	"github.com/ordo-platform/ordo/services/order"
)

type positioned struct {
	Position string `json:"position"`
}

func (en *env) cancel(who web.Identity, id string) (response, string) {
	en.t.Helper()
	res := en.do("POST", "/orders/"+id+"/cancel", who, "")
	var p positioned
	if res.status == http.StatusAccepted {
		res.decode(en.t, &p)
		if _, err := es.ParsePosition(p.Position); err != nil {
			en.t.Fatalf("cancel answered position %q", p.Position)
		}
	}
	return res, p.Position
}

func TestCancel(t *testing.T) {
	en := newEnv(t)
	ctx := context.Background()
	p := en.place(alice, oneMug)

	res, pos := en.cancel(alice, p.ID)
	if res.status != http.StatusAccepted {
		t.Fatalf("cancel: %d %s", res.status, res.body)
	}
	if v := en.view(alice, p.ID, pos); v.Status != order.StatusPending || !v.CancellationRequested || !v.UpdatedAt.After(v.PlacedAt) {
		t.Errorf("after the request: %+v", v)
	}
	events := en.orderEvents()
	if len(events) != 2 || events[1].Type != order.TypeCancellationRequested || events[1].Position.String() != pos {
		t.Fatalf("events %+v", events)
	}
	if md := events[1].Metadata; md.CorrelationID != p.ID || md.Actor != "alice" {
		t.Errorf("metadata %+v", md)
	}

	// Asking again records nothing and answers the order's latest position.
	if res, again := en.cancel(alice, p.ID); res.status != http.StatusAccepted || again != pos {
		t.Errorf("second request: %d position %s, want 202 %s", res.status, again, pos)
	}
	// The saga finishes the cancellation; asking after that is a no-op too.
	done, err := en.app.Cancel(ctx, p.ID, order.ReasonCustomerCancelled)
	if err != nil {
		t.Fatal(err)
	}
	if res, again := en.cancel(alice, p.ID); res.status != http.StatusAccepted || again != done.String() {
		t.Errorf("after cancellation: %d position %s, want 202 %s", res.status, again, done)
	}
	v := en.view(alice, p.ID, done.String())
	if v.Status != order.StatusCancelled || v.Reason != order.ReasonCustomerCancelled || v.CancellationRequested {
		t.Errorf("cancelled view: %+v", v)
	}
	if n := len(en.orderEvents()); n != 3 {
		t.Errorf("%d order events, want placed, requested, cancelled", n)
	}
}

func TestCancelRejects(t *testing.T) {
	en := newEnv(t)
	ctx := context.Background()
	mine := en.place(alice, oneMug)
	confirmed := en.place(alice, oneMug)
	if _, err := en.app.Confirm(ctx, confirmed.ID); err != nil {
		t.Fatal(err)
	}
	before := len(en.orderEvents())
	tests := []struct {
		name   string
		who    web.Identity
		id     string
		status int
		detail string
	}{
		{"confirmed order", alice, confirmed.ID, 409, "is confirmed"},
		{"another customer's order", bob, mine.ID, 404, "order " + mine.ID + " not found"},
		{"unknown order", alice, es.NewUUID().String(), 404, "not found"},
		{"not an order id", alice, "nope", 404, "not found"},
		{"no identity", nobody, mine.ID, 401, "Ordo-Identity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, _ := en.cancel(tt.who, tt.id)
			if res.status != tt.status {
				t.Fatalf("status %d, want %d; body %s", res.status, tt.status, res.body)
			}
			if pr := res.problem(t); !strings.Contains(pr.Detail, tt.detail) {
				t.Errorf("problem %+v, want detail containing %q", pr, tt.detail)
			}
		})
	}
	if after := len(en.orderEvents()); after != before {
		t.Fatalf("rejected cancellations wrote %d events", after-before)
	}
	if v := en.view(alice, mine.ID, en.head().String()); v.CancellationRequested {
		t.Errorf("bob's attempt changed alice's order: %+v", v)
	}
	// An admin may cancel any order.
	if res, _ := en.cancel(admin, mine.ID); res.status != http.StatusAccepted {
		t.Errorf("admin cancel: %d %s", res.status, res.body)
	}
}

// TestSagaCommands checks the use cases the saga will call: confirm is
// final, the saga's metadata is kept, and a confirmed order shows as such.
func TestSagaCommands(t *testing.T) {
	en := newEnv(t)
	p := en.place(alice, oneMug)
	ctx := es.WithMetadata(context.Background(), es.Metadata{CorrelationID: p.ID, CausationID: "evt-1", Actor: "order-saga"})
	pos, err := en.app.Confirm(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := en.app.Confirm(ctx, p.ID); err != nil || again != pos {
		t.Errorf("confirm twice: %s %v, want %s", again, err, pos)
	}
	if _, err := en.app.Cancel(ctx, p.ID, order.ReasonPaymentDeclined); err == nil {
		t.Error("cancelling a confirmed order succeeded")
	}
	if _, err := en.app.Cancel(ctx, p.ID, "bored"); err == nil {
		t.Error("unknown reason accepted")
	}
	v := en.view(alice, p.ID, pos.String())
	if v.Status != order.StatusConfirmed || v.Reason != "" {
		t.Errorf("confirmed view: %+v", v)
	}
	events := en.orderEvents()
	if md := events[len(events)-1].Metadata; md.Actor != "order-saga" || md.CausationID != "evt-1" || md.CorrelationID != p.ID {
		t.Errorf("saga metadata %+v", md)
	}
}
