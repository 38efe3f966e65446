package httpapi_test

import (
	"net/http"
	"regexp"
	"testing"
)

var traceParentRE = regexp.MustCompile(`^00-([0-9a-f]{32})-[0-9a-f]{16}-01$`)

// Without a usable traceparent from the client, the gateway starts a trace
// of its own for each request and the backend call continues it.
func TestGatewayStartsATraceWhenTheClientSendsNone(t *testing.T) {
	g := newGateway(t, defaults(), nil)
	alice := g.login(t, "alice")
	traces := map[string]bool{}
	for _, tp := range []string{"", "00-00000000000000000000000000000000-b7ad6b7169203331-01", "junk"} {
		wantStatus(t, g.do(t, req{method: "GET", path: "/api/v1/orders", token: alice, header: map[string]string{"traceparent": tp}}), http.StatusOK)
		g.fakes.mu.Lock()
		got := g.fakes.headers[len(g.fakes.headers)-1].Get("traceparent")
		g.fakes.mu.Unlock()
		m := traceParentRE.FindStringSubmatch(got)
		if m == nil || m[1] == "00000000000000000000000000000000" {
			t.Fatalf("client sent %q, backend got traceparent %q: want a sampled trace of the gateway's", tp, got)
		}
		traces[m[1]] = true
	}
	if len(traces) != 3 {
		t.Fatalf("trace ids %v: want a new one per request", traces)
	}
}
