package providersim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ordo-platform/ordo/pkg/money"
)

// start serves a simulator on a free port and returns it with its URL.
func start(t *testing.T, opts Options) (*Sim, string) {
	t.Helper()
	sim, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler(slog.New(slog.NewTextHandler(io.Discard, nil))))
	t.Cleanup(func() { sim.Close(); srv.Close() })
	return sim, srv.URL
}

// call makes one request and decodes a JSON answer into a map.
func call(t *testing.T, client *http.Client, method, url, body string) (int, map[string]any, http.Header) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if client == nil {
		client = http.DefaultClient
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	var m map[string]any
	b, _ := io.ReadAll(res.Body)
	_ = json.Unmarshal(b, &m)
	return res.StatusCode, m, res.Header
}

func chargeBody(key string, amount int64) string {
	b, _ := json.Marshal(ChargeRequest{IdempotencyKey: key, Amount: money.Euros(amount)})
	return string(b)
}

func TestChargeIsIdempotent(t *testing.T) {
	sim, url := start(t, Options{Seed: 1})
	st, first, h := call(t, nil, "POST", url+"/v1/charges", chargeBody("order-1", 1290))
	if st != 201 || first["status"] != "captured" || h.Get(HeaderReplayed) != "" {
		t.Fatalf("first charge: %d %v", st, first)
	}
	st, again, h := call(t, nil, "POST", url+"/v1/charges", chargeBody("order-1", 1290))
	if st != 201 || h.Get(HeaderReplayed) != "true" {
		t.Fatalf("repeat: %d %v", st, again)
	}
	if diff := cmp.Diff(first, again); diff != "" {
		t.Errorf("repeat returned another charge (-first +again):\n%s", diff)
	}
	st, p, _ := call(t, nil, "POST", url+"/v1/charges", chargeBody("order-1", 999))
	if st != 422 || p["type"] != "https://ordo.dev/problems/idempotency-key-reused" {
		t.Errorf("other amount, same key: %d %v; want 422 idempotency-key-reused", st, p)
	}
	if n := len(sim.Ledger().Charges); n != 1 {
		t.Errorf("ledger has %d charges, want 1", n)
	}
}

func TestBadInputChangesNothing(t *testing.T) {
	sim, url := start(t, Options{})
	for _, tc := range []struct{ name, path, body, detail string }{
		{"malformed", "/v1/charges", `{"idempotency_key":`, "malformed JSON"},
		{"unknown field", "/v1/charges", `{"idempotency_key":"k","amount":{"amount":1,"currency":"EUR"},"x":1}`, "unknown field"},
		{"no key", "/v1/charges", `{"amount":{"amount":1,"currency":"EUR"}}`, "idempotency_key must be"},
		{"zero amount", "/v1/charges", `{"idempotency_key":"k","amount":{"amount":0,"currency":"EUR"}}`, "positive amount"},
		{"negative amount", "/v1/charges", `{"idempotency_key":"k","amount":{"amount":-5,"currency":"EUR"}}`, "positive amount"},
		{"bad currency", "/v1/charges", `{"idempotency_key":"k","amount":{"amount":5,"currency":"eur"}}`, "positive amount"},
		{"amount as string", "/v1/charges", `{"idempotency_key":"k","amount":{"amount":"5","currency":"EUR"}}`, `"amount.amount" must be an integer`},
		{"long key", "/v1/charges", chargeBody(strings.Repeat("k", 201), 5), "idempotency_key must be"},
		{"refund no charge id", "/v1/refunds", `{"idempotency_key":"k"}`, "charge_id must be"},
		{"refund unknown field", "/v1/refunds", `{"idempotency_key":"k","charge_id":"c","amount":1}`, "unknown field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, p, _ := call(t, nil, "POST", url+tc.path, tc.body)
			if d, _ := p["detail"].(string); st != 400 || !strings.Contains(d, tc.detail) {
				t.Errorf("%d %v; want 400 mentioning %q", st, p, tc.detail)
			}
		})
	}
	if st, _, _ := call(t, nil, "GET", url+"/v1/charges", ""); st != 400 {
		t.Errorf("lookup without key: %d, want 400", st)
	}
	if l := sim.Ledger(); len(l.Charges)+len(l.Refunds) != 0 {
		t.Errorf("bad input wrote to the ledger: %+v", l)
	}
}

func TestRefundOncePerCharge(t *testing.T) {
	sim, url := start(t, Options{})
	_, ch, _ := call(t, nil, "POST", url+"/v1/charges", chargeBody("o1", 500))
	body := `{"idempotency_key":"o1","charge_id":"` + ch["id"].(string) + `"}`
	st, r1, _ := call(t, nil, "POST", url+"/v1/refunds", body)
	if st != 201 || r1["charge_id"] != ch["id"] {
		t.Fatalf("refund: %d %v", st, r1)
	}
	st, r2, h := call(t, nil, "POST", url+"/v1/refunds", body)
	if st != 201 || r2["id"] != r1["id"] || h.Get(HeaderReplayed) != "true" {
		t.Errorf("repeat refund: %d %v, want the same refund %v", st, r2, r1["id"])
	}
	other := `{"idempotency_key":"another","charge_id":"` + ch["id"].(string) + `"}`
	if st, r3, _ := call(t, nil, "POST", url+"/v1/refunds", other); st != 201 || r3["id"] != r1["id"] {
		t.Errorf("refund under another key: %d %v, want the same refund", st, r3)
	}
	if st, _, _ := call(t, nil, "POST", url+"/v1/refunds", `{"idempotency_key":"x","charge_id":"ch_nope"}`); st != 404 {
		t.Errorf("refund of an unknown charge: %d, want 404", st)
	}
	_, ch2, _ := call(t, nil, "POST", url+"/v1/charges", chargeBody("o2", 500))
	reused := `{"idempotency_key":"o1","charge_id":"` + ch2["id"].(string) + `"}`
	if st, _, _ := call(t, nil, "POST", url+"/v1/refunds", reused); st != 422 {
		t.Errorf("refund key reused for another charge: %d, want 422", st)
	}
	if n := len(sim.Ledger().Refunds); n != 1 {
		t.Errorf("ledger has %d refunds, want 1", n)
	}
}

func TestDeclinedChargeIsKeptAndNotRefundable(t *testing.T) {
	sim, url := start(t, Options{Faults: Faults{DeclineRate: 1}})
	st, ch, _ := call(t, nil, "POST", url+"/v1/charges", chargeBody("o1", 500))
	if st != 201 || ch["status"] != "declined" || ch["decline_reason"] == "" {
		t.Fatalf("charge: %d %v, want declined with a reason", st, ch)
	}
	if err := sim.SetFaults(Faults{}); err != nil {
		t.Fatal(err)
	}
	if _, again, _ := call(t, nil, "POST", url+"/v1/charges", chargeBody("o1", 500)); again["status"] != "declined" {
		t.Errorf("repeat after the decline rate dropped: %v, want the same declined charge", again)
	}
	body := `{"idempotency_key":"o1","charge_id":"` + ch["id"].(string) + `"}`
	if st, _, _ := call(t, nil, "POST", url+"/v1/refunds", body); st != 422 {
		t.Errorf("refund of a declined charge: %d, want 422", st)
	}
}

func TestLookupAndLedger(t *testing.T) {
	_, url := start(t, Options{})
	if st, _, _ := call(t, nil, "GET", url+"/v1/charges?idempotency_key=o1", ""); st != 404 {
		t.Errorf("lookup before charging: %d, want 404", st)
	}
	_, ch, _ := call(t, nil, "POST", url+"/v1/charges", chargeBody("o1", 700))
	st, got, _ := call(t, nil, "GET", url+"/v1/charges?idempotency_key=o1", "")
	if st != 200 || got["id"] != ch["id"] {
		t.Errorf("lookup: %d %v, want %v", st, got, ch)
	}
	call(t, nil, "POST", url+"/v1/refunds", `{"idempotency_key":"o1","charge_id":"`+ch["id"].(string)+`"}`)
	res, err := get(t, url+"/v1/ledger")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var l Ledger
	if err := json.NewDecoder(res.Body).Decode(&l); err != nil {
		t.Fatal(err)
	}
	want := Ledger{
		Charges: []Charge{{ID: ch["id"].(string), IdempotencyKey: "o1", Status: StatusCaptured, Amount: money.Euros(700)}},
		Refunds: []Refund{{IdempotencyKey: "o1", ChargeID: ch["id"].(string), Amount: money.Euros(700)}},
	}
	opts := cmp.Options{cmpopts.IgnoreUnexported(Charge{}, Refund{}), cmpopts.IgnoreFields(Charge{}, "CreatedAt"),
		cmpopts.IgnoreFields(Refund{}, "ID", "CreatedAt")}
	if diff := cmp.Diff(want, l, opts); diff != "" {
		t.Errorf("ledger (-want +got):\n%s", diff)
	}
}

func TestFaultsEndpoint(t *testing.T) {
	sim, url := start(t, Options{})
	st, got, _ := call(t, nil, "PUT", url+"/v1/faults", `{"decline_rate":0.5,"latency_ms":10}`)
	if st != 200 || got["decline_rate"] != 0.5 || got["latency_ms"] != 10.0 || got["error_rate"] != 0.0 {
		t.Fatalf("put: %d %v", st, got)
	}
	st, got, _ = call(t, nil, "PUT", url+"/v1/faults", `{"error_rate":0.25}`)
	if st != 200 || got["decline_rate"] != 0.5 || got["error_rate"] != 0.25 {
		t.Errorf("partial put should keep the other knobs: %d %v", st, got)
	}
	for _, bad := range []string{`{"error_rate":1.5}`, `{"decline_rate":-0.1}`, `{"lost_response_rate":2}`,
		`{"latency_ms":-1}`, `{"latency_ms":600000}`, `{"bogus":1}`, `{"error_rate":"x"}`, `not json`} {
		if st, p, _ := call(t, nil, "PUT", url+"/v1/faults", bad); st != 400 {
			t.Errorf("put %s: %d %v, want 400", bad, st, p)
		}
	}
	want := Faults{DeclineRate: 0.5, ErrorRate: 0.25, LatencyMS: 10}
	if diff := cmp.Diff(want, sim.Faults()); diff != "" {
		t.Errorf("rejected puts changed the faults (-want +got):\n%s", diff)
	}
	if _, got, _ := call(t, nil, "GET", url+"/v1/faults", ""); got["error_rate"] != 0.25 {
		t.Errorf("get: %v", got)
	}
}

func TestErrorRateAnswers5xxWithoutCharging(t *testing.T) {
	sim, url := start(t, Options{Faults: Faults{ErrorRate: 1}})
	seen := map[int]bool{}
	for i := range 20 {
		st, _, _ := call(t, nil, "POST", url+"/v1/charges", chargeBody("o1", 100+int64(i)))
		seen[st] = true
	}
	if !seen[500] || !seen[503] || len(seen) != 2 {
		t.Errorf("statuses %v, want only 500 and 503", seen)
	}
	if st, _, _ := call(t, nil, "GET", url+"/v1/charges?idempotency_key=o1", ""); st < 500 {
		t.Errorf("lookup under error_rate 1: %d, want 5xx", st)
	}
	if n := len(sim.Ledger().Charges); n != 0 {
		t.Errorf("ledger has %d charges after only errors, want 0", n)
	}
}

func TestLatencyDelaysAnswers(t *testing.T) {
	_, url := start(t, Options{Faults: Faults{LatencyMS: 150}})
	began := time.Now()
	if st, _, _ := call(t, nil, "POST", url+"/v1/charges", chargeBody("o1", 100)); st != 201 {
		t.Fatalf("charge: %d", st)
	}
	if d := time.Since(began); d < 150*time.Millisecond {
		t.Errorf("answer after %v, want at least 150ms", d)
	}
}

// TestLatencyChargesAfterTheClientGaveUp: a charge whose caller timed out
// still lands, as with a real provider.
func TestLatencyChargesAfterTheClientGaveUp(t *testing.T) {
	sim, url := start(t, Options{Faults: Faults{LatencyMS: 200}})
	client := &http.Client{Timeout: 50 * time.Millisecond}
	req, _ := http.NewRequestWithContext(context.Background(), "POST", url+"/v1/charges", strings.NewReader(chargeBody("o1", 100)))
	if res, err := client.Do(req); err == nil {
		_ = res.Body.Close()
		t.Fatal("want a client timeout")
	}
	deadline := time.Now().Add(2 * time.Second)
	for len(sim.Ledger().Charges) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := len(sim.Ledger().Charges); n != 1 {
		t.Errorf("ledger has %d charges, want the late one", n)
	}
}

func TestLostResponseChargesThenLosesTheAnswer(t *testing.T) {
	sim, url := start(t, Options{Seed: 7, Faults: Faults{LostResponseRate: 1}})
	client := &http.Client{Timeout: 300 * time.Millisecond}
	var timeouts, drops int
	for i := range 10 {
		req, _ := http.NewRequestWithContext(context.Background(), "POST", url+"/v1/charges", bytes.NewBufferString(chargeBody("o"+string(rune('a'+i)), 100)))
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err == nil {
			res.Body.Close()
			t.Fatalf("charge %d answered %d; want the answer lost", i, res.StatusCode)
		}
		var ne interface{ Timeout() bool }
		if errors.As(err, &ne) && ne.Timeout() {
			timeouts++
		} else {
			drops++
		}
	}
	if timeouts == 0 || drops == 0 {
		t.Errorf("%d hangs (client timeouts) and %d dropped connections; want both kinds of loss", timeouts, drops)
	}
	if n := len(sim.Ledger().Charges); n != 10 {
		t.Errorf("ledger has %d charges, want 10: a lost answer still charges", n)
	}
}

func TestSeedReproducesTheDice(t *testing.T) {
	faults := Faults{DeclineRate: 0.5, ErrorRate: 0.3, LostResponseRate: 0.3}
	rolls := func(seed uint64) []dice {
		s, err := New(Options{Seed: seed, Faults: faults})
		if err != nil {
			t.Fatal(err)
		}
		out := make([]dice, 50)
		for i := range out {
			out[i] = s.roll()
		}
		return out
	}
	a, b, c := rolls(42), rolls(42), rolls(43)
	if diff := cmp.Diff(a, b, cmp.AllowUnexported(dice{})); diff != "" {
		t.Errorf("same seed, different dice:\n%s", diff)
	}
	if cmp.Equal(a, c, cmp.AllowUnexported(dice{})) {
		t.Error("different seeds gave the same 50 rolls")
	}
}

func TestNewRejectsBadFaults(t *testing.T) {
	if _, err := New(Options{Faults: Faults{ErrorRate: 2}}); err == nil {
		t.Error("New accepted error_rate 2")
	}
}

// get is http.Get with a context.
func get(t *testing.T, url string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	return http.DefaultClient.Do(req)
}
