package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestIdempotencyKey(t *testing.T) {
	g := newGateway(t, defaults(), nil)
	alice := g.login(t, "alice")
	line := map[string]any{"lines": []any{map[string]any{"sku": "SKU-1", "quantity": 1}}}

	t.Run("missing key is 400", func(t *testing.T) {
		wantStatus(t, g.do(t, req{method: "POST", path: "/api/v1/orders", token: alice, body: line, badRequest: true}), http.StatusBadRequest)
	})
	t.Run("client price is 400", func(t *testing.T) {
		body := `{"lines":[{"sku":"SKU-1","quantity":1,"unit_price":{"amount":1,"currency":"EUR"}}]}`
		wantStatus(t, g.do(t, req{method: "POST", path: "/api/v1/orders", token: alice, body: body, badRequest: true,
			header: map[string]string{"Idempotency-Key": "p"}}), http.StatusBadRequest)
	})
	first := g.place(t, alice, "same")
	wantStatus(t, first, http.StatusAccepted)
	t.Run("same key and body replays", func(t *testing.T) {
		again := g.place(t, alice, "same")
		wantStatus(t, again, http.StatusAccepted)
		if string(again.body) != string(first.body) || again.header.Get("Location") != first.header.Get("Location") {
			t.Errorf("replay %s / %s differs from %s / %s", again.body, again.header.Get("Location"), first.body, first.header.Get("Location"))
		}
		if again.header.Get("Idempotent-Replayed") != "true" {
			t.Error("replay not marked")
		}
		if n := g.fakes.placed.Load(); n != 1 {
			t.Errorf("%d orders placed, want 1", n)
		}
	})
	t.Run("same key other body is 422", func(t *testing.T) {
		wantStatus(t, g.do(t, req{method: "POST", path: "/api/v1/orders", token: alice,
			header: map[string]string{"Idempotency-Key": "same"},
			body:   map[string]any{"lines": []any{map[string]any{"sku": "SKU-1", "quantity": 2}}}}), http.StatusUnprocessableEntity)
	})
	t.Run("keys are per user", func(t *testing.T) {
		wantStatus(t, g.place(t, g.login(t, "bob"), "same"), http.StatusAccepted)
	})
}

// One key, 100 identical requests at once: exactly one order reaches the
// order service; the others are replays or 409 (first still in flight).
func TestConcurrentDuplicatesPlaceOneOrder(t *testing.T) {
	o := defaults()
	// This test runs beside the whole suite under -race: 100 idempotency
	// claims at once can take a while to get through Redis.
	o.redisTimeout = 5 * time.Second
	g := newGateway(t, o, nil)
	alice := g.login(t, "alice")
	gate := make(chan struct{})
	g.fakes.placeGate = gate
	var wg sync.WaitGroup
	var answered atomic.Int64
	results := make([]resp, 100)
	for i := range results {
		wg.Go(func() {
			results[i] = g.place(t, alice, "race")
			answered.Add(1)
		})
	}
	// Hold the first request in the order service until the 99 duplicates
	// have met its pending record (bounded well inside the gateway's write
	// timeout, so on a slow machine some may come late and be replays).
	for deadline := time.Now().Add(2 * time.Second); answered.Load() < 99 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	close(gate)
	wg.Wait()
	counts := map[int]int{}
	sample := map[int]string{}
	var ids []string
	for _, r := range results {
		counts[r.status]++
		sample[r.status] = string(r.body)
		if r.status == http.StatusAccepted {
			ids = append(ids, r.json(t)["id"].(string))
		}
	}
	if n := g.fakes.placed.Load(); n != 1 {
		t.Fatalf("%d orders placed, want exactly 1 (statuses %v; a body per status %v)", n, counts, sample)
	}
	if counts[http.StatusAccepted]+counts[http.StatusConflict] != 100 || counts[http.StatusConflict] == 0 {
		t.Fatalf("statuses %v, want only 202 and 409 with some 409; a body per status: %v", counts, sample)
	}
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("two order ids: %s and %s", ids[0], id)
		}
	}
	after := g.place(t, alice, "race")
	wantStatus(t, after, http.StatusAccepted)
}

func TestOrderViewDegradesAndBreakerRecovers(t *testing.T) {
	g := newGateway(t, defaults(), nil)
	alice, admin := g.login(t, "alice"), g.login(t, "admin")
	id := g.place(t, alice, "v").json(t)["id"].(string)
	path := "/api/v1/orders/" + id

	live := g.do(t, req{method: "GET", path: path, token: alice})
	wantStatus(t, live, http.StatusOK)
	v := live.json(t)
	if v["payment"].(map[string]any)["status"] != "captured" || len(v["notifications"].([]any)) != 1 || len(v["degraded"].([]any)) != 0 {
		t.Fatalf("live view %s", live.body)
	}
	if live.header.Get("Age") != "" {
		t.Error("live view has an Age header")
	}

	g.fakes.paymentDown.Store(true)
	g.fakes.notifyDown.Store(true)
	g.rdb.Del(t.Context(), g.prefix+"cache:notifications:"+id) // no good copy of this part
	for i := range 4 {
		r := g.do(t, req{method: "GET", path: path, token: alice})
		wantStatus(t, r, http.StatusOK)
		v := r.json(t)
		if got := join(v["degraded"]); got != "payment,notifications" {
			t.Fatalf("request %d: degraded %q", i, got)
		}
		if join(v["stale"]) != "payment" || v["payment"].(map[string]any)["status"] != "captured" || len(v["notifications"].([]any)) != 0 {
			t.Fatalf("request %d: view %s", i, r.body)
		}
		if _, err := strconv.Atoi(r.header.Get("Age")); err != nil {
			t.Fatalf("Age %q", r.header.Get("Age"))
		}
	}
	status := g.do(t, req{method: "GET", path: "/api/v1/admin/status", token: admin}).json(t)
	pay := status["services"].(map[string]any)["payment"].(map[string]any)["breaker"].(map[string]any)
	// The breaker opened; on a loaded machine its short open period may
	// already have run out, leaving it half-open, which is still "tripped".
	if pay["state"] != "open" && pay["state"] != "half-open" {
		t.Fatalf("payment breaker %v, want open (or half-open) after failures", pay)
	}
	// Writes never fall back: placing still goes to the order service.
	wantStatus(t, g.place(t, alice, "w"), http.StatusAccepted)

	g.fakes.paymentDown.Store(false)
	g.fakes.notifyDown.Store(false)
	time.Sleep(300 * time.Millisecond) // past open-for: the next call probes
	r := g.do(t, req{method: "GET", path: path, token: alice})
	if v := r.json(t); len(v["degraded"].([]any)) != 0 || r.header.Get("Age") != "" {
		t.Fatalf("after recovery: %s", r.body)
	}
	status = g.do(t, req{method: "GET", path: "/api/v1/admin/status", token: admin}).json(t)
	pay = status["services"].(map[string]any)["payment"].(map[string]any)["breaker"].(map[string]any)
	if pay["state"] != "closed" || pay["transition_count"].(float64) < 3 {
		t.Fatalf("payment breaker %v, want closed after open → half-open → closed", pay)
	}
}

func join(v any) string {
	list, _ := v.([]any)
	s := make([]string, len(list))
	for i, x := range list {
		s[i], _ = x.(string)
	}
	return strings.Join(s, ",")
}

func TestReadsRetryAndTimeOut(t *testing.T) {
	o := defaults()
	o.readTimeout = 300 * time.Millisecond
	g := newGateway(t, o, nil)
	g.fakes.catalogFails.Store(1)
	wantStatus(t, g.do(t, req{method: "GET", path: "/api/v1/products"}), http.StatusOK)
	if n := g.fakes.catalogCalls.Load(); n != 2 {
		t.Errorf("%d catalog calls, want 2 (one retry)", n)
	}
	g.fakes.catalogDelay.Store(int64(time.Second))
	wantStatus(t, g.do(t, req{method: "GET", path: "/api/v1/products"}), http.StatusGatewayTimeout)
}

func TestMinPositionNotCaughtUpIsRelayed(t *testing.T) {
	g := newGateway(t, defaults(), nil)
	alice := g.login(t, "alice")
	placed := g.place(t, alice, "m").json(t)
	g.fakes.notCaughtUp.Store(true)
	r := g.do(t, req{method: "GET", path: "/api/v1/orders/" + placed["id"].(string) + "?min_position=" + placed["position"].(string), token: alice})
	wantStatus(t, r, http.StatusServiceUnavailable)
	if r.header.Get("Retry-After") != "1" || !strings.Contains(string(r.body), "not-caught-up") {
		t.Fatalf("answer %v %s", r.header, r.body)
	}
	// The relayed problem is the whole body: nothing written after it.
	dec := json.NewDecoder(bytes.NewReader(r.body))
	var p map[string]any
	if err := dec.Decode(&p); err != nil {
		t.Fatal(err)
	}
	if rest, _ := io.ReadAll(dec.Buffered()); len(bytes.TrimSpace(rest)) > 0 || dec.More() {
		t.Fatalf("the problem is followed by %q", rest)
	}
}
