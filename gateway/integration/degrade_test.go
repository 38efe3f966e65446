package integration

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// testPaymentDown kills the payment service: the order view must still
// answer, naming payment as degraded (stale if the gateway had a copy,
// null otherwise), the gateway's payment breaker must open after enough
// failed reads, and after a restart the breaker closes and the view is
// live again.
func (e *env) testPaymentDown(t *testing.T) {
	p := e.place(t, e.alice, e.orderSKU, 1)
	live, r := e.view(t, e.alice, p.ID, p.Position)
	wantStatus(t, r, http.StatusOK)
	if len(live.Degraded) != 0 {
		t.Fatalf("degraded before anything failed: %s", r.body)
	}
	restarted := false
	if err := e.p.Kill(t.Context(), "payment"); err != nil {
		t.Fatal(err)
	}
	if res, err := http.Get(e.p.URLs["payment"] + "/readyz"); err == nil { //nolint:noctx // a test
		_ = res.Body.Close()
		t.Fatalf("payment killed, yet %s answers %d: another process holds its port", e.p.URLs["payment"], res.StatusCode)
	}
	t.Cleanup(func() { // leave the platform whole for whatever runs after
		if !restarted {
			_ = e.p.Restart(t.Context(), "payment")
		}
	})

	opened := 0
	for i := 1; i <= 10 && opened == 0; i++ {
		v, r := e.view(t, e.alice, p.ID, "")
		wantStatus(t, r, http.StatusOK)
		e.checkDegraded(t, live, v, r)
		if e.serviceStates(t)["payment"].Breaker.State == "open" {
			opened = i
		}
	}
	if opened == 0 {
		t.Fatal("the payment breaker did not open after 10 order views with payment down")
	}
	t.Logf("payment breaker open after %d order views", opened)
	st := e.serviceStates(t)["payment"]
	if st.Ready || st.Status != "unreachable" {
		t.Errorf("admin status of the killed payment service: %+v", st)
	}
	// While open, the view is still served (payment refused without a call).
	v, r := e.view(t, e.alice, p.ID, "")
	wantStatus(t, r, http.StatusOK)
	e.checkDegraded(t, live, v, r)

	if err := e.p.Restart(t.Context(), "payment"); err != nil {
		t.Fatal(err)
	}
	restarted = true
	eventually(t, 15*time.Second, func() error {
		v, r := e.view(t, e.alice, p.ID, "")
		if r.status != http.StatusOK || len(v.Degraded) != 0 {
			return fmt.Errorf("order view after restart: %d %s", r.status, r.body)
		}
		if s := e.serviceStates(t)["payment"]; s.Breaker.State != "closed" || !s.Ready {
			return fmt.Errorf("payment after restart: %+v", s)
		}
		return nil
	})
}

// checkDegraded: payment is named degraded; the gateway's last good copy
// is served as stale (with an Age header) if it had one, else null; the
// rest of the view is as it was.
func (e *env) checkDegraded(t *testing.T, live, v orderView, r resp) {
	t.Helper()
	if !slices.Contains(v.Degraded, "payment") {
		t.Errorf("payment down, but degraded = %v: %s", v.Degraded, r.body)
	}
	if slices.Contains(v.Degraded, "notifications") || v.ID != live.ID || !cmp.Equal(live.Lines, v.Lines) {
		t.Errorf("only payment is down, yet the view changed: %s", r.body)
	}
	switch {
	case live.Payment == nil && v.Payment != nil:
		t.Errorf("no payment was ever seen, yet one is served: %s", r.body)
	case live.Payment == nil && slices.Contains(v.Stale, "payment"):
		t.Errorf("stale payment without a copy: %s", r.body)
	case live.Payment != nil && (!slices.Contains(v.Stale, "payment") || r.header.Get("Age") == ""):
		t.Errorf("a good copy was seen, want it served stale with Age: %s (Age %q)", r.body, r.header.Get("Age"))
	case live.Payment != nil && !cmp.Equal(live.Payment, v.Payment):
		t.Errorf("stale payment %v differs from the last live one %v", v.Payment, live.Payment)
	}
}
