package e2e

import (
	"compress/gzip"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/ordo-platform/ordo/pkg/es"
)

// TestOneTraceAcrossEveryService places one order through the gateway with
// every process exporting its spans to an OTLP/HTTP receiver in this test,
// and checks that the order's trace (the one its order.placed event
// carries) holds spans of the gateway, order (its HTTP API and the saga),
// inventory, payment and notify, across the asynchronous hops through the
// event store, and that the trace is one tree: every span's parent is in it.
// notify's log line for the email must name the trace and the order.
func TestOneTraceAcrossEveryService(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole platform")
	}
	col := newCollector(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", col.url)
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	t.Setenv("OTEL_TRACES_EXPORTER", "")
	t.Setenv("OTEL_TRACES_SAMPLER", "")
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "100") // milliseconds: spans arrive soon after they end
	p := startLoadPlatform(t, t.TempDir(), true)
	ctx := t.Context()

	alice, err := newLoadClient(ctx, p.GatewayURL, "alice")
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	sku := inStock(t, alice)
	placed, err := alice.place(ctx, fmt.Sprintf("trace-%d", time.Now().UnixNano()), []loadLine{{SKU: sku, Quantity: 1}}, time.Minute)
	if err != nil {
		t.Fatalf("place: %v", err)
	}
	waitConfirmedAndMailed(t, alice, placed.ID)
	traceID := orderTrace(t, p, placed.ID)

	want := []struct{ service, name string }{
		{"gateway", "POST /api/v1/orders"},                   // the client's request
		{"order", "POST /orders"},                            // the order service's API
		{"order", "order-fulfilment-saga order.placed"},      // the saga, through the event store
		{"inventory", "inventory-fulfilment "},               // reserving and committing stock
		{"payment", "payment-fulfilment "},                   // capturing the payment
		{"order", "order-fulfilment-saga payment.captured"},  // the saga confirming the order
		{"notify", "notify-triggers order.confirmed"},        // the confirmation email requested
		{"notify", "notify-delivery notification.requested"}, // and sent
	}
	var spans []span
	var missing []string
	deadline := time.Now().Add(time.Minute)
	for {
		spans = col.trace(traceID)
		missing = missing[:0]
		for _, w := range want {
			if !slices.ContainsFunc(spans, func(s span) bool { return s.service == w.service && strings.HasPrefix(s.name, w.name) }) {
				missing = append(missing, w.service+": "+w.name)
			}
		}
		if orphans := orphaned(spans); len(missing) == 0 && len(orphans) == 0 {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("trace %s after a minute: missing %q; spans whose parent is not in the trace: %v\nspans:\n%s",
				traceID, missing, orphans, describe(spans))
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Each asynchronous hop hangs under the handler that appended the event:
	// the participants under the saga's span, the email under the saga's
	// span that confirmed the order.
	byID := map[string]span{}
	for _, s := range spans {
		byID[s.id] = s
	}
	for _, s := range spans {
		if !strings.HasPrefix(s.name, "inventory-fulfilment ") && !strings.HasPrefix(s.name, "payment-fulfilment ") &&
			!strings.HasPrefix(s.name, "notify-triggers ") {
			continue
		}
		if p := byID[s.parent]; p.service != "order" || !strings.HasPrefix(p.name, "order-fulfilment-saga ") {
			t.Errorf("%s/%s: parent %s/%s, want a span of the saga", s.service, s.name, p.service, p.name)
		}
	}
	roots := 0
	for _, s := range spans {
		if s.parent == "" {
			roots++
			if s.service != "gateway" {
				t.Errorf("root span %s/%s: want the gateway's request", s.service, s.name)
			}
		}
	}
	if roots != 1 {
		t.Errorf("%d root spans in trace %s, want 1:\n%s", roots, traceID, describe(spans))
	}
	// The log lines written while handling the order name its trace and id.
	if !slices.ContainsFunc(strings.Split(p.out.Tail(64<<20), "\n"), func(l string) bool {
		return strings.HasPrefix(l, "notify") && strings.Contains(l, `msg="notification delivered"`) &&
			strings.Contains(l, "trace_id="+traceID) && strings.Contains(l, "correlation_id="+placed.ID)
	}) {
		t.Errorf("no notify log line \"notification delivered\" with trace_id=%s correlation_id=%s", traceID, placed.ID)
	}
	t.Logf("trace %s: %d spans from %v:\n%s", traceID, len(spans), services(spans), describe(spans))
}

// inStock returns a SKU the catalog has in stock.
func inStock(t *testing.T, c *loadClient) string {
	t.Helper()
	prods, err := c.products(t.Context())
	if err != nil {
		t.Fatalf("products: %v", err)
	}
	for _, p := range prods {
		if p.Available > 0 {
			return p.SKU
		}
	}
	t.Fatalf("no product in stock: %+v", prods)
	return ""
}

// waitConfirmedAndMailed polls the order through the gateway until it is
// confirmed and its confirmation email is recorded as sent.
func waitConfirmedAndMailed(t *testing.T, c *loadClient, id string) {
	t.Helper()
	var view struct {
		Status        string `json:"status"`
		Reason        string `json:"reason"`
		Notifications []struct {
			Kind string `json:"kind"`
		} `json:"notifications"`
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		err := c.call(t.Context(), http.MethodGet, "/api/v1/orders/"+id, nil, nil, &view)
		if err == nil && view.Status == "cancelled" {
			t.Fatalf("order %s cancelled (%s)", id, view.Reason)
		}
		if err == nil && view.Status == "confirmed" && len(view.Notifications) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("order %s after two minutes: %+v (%v)", id, view, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// orderTrace returns the trace id the order's order.placed event carries.
func orderTrace(t *testing.T, p *loadPlatform, id string) string {
	t.Helper()
	events, err := p.store.ReadStream(t.Context(), es.StreamID("order", id), es.Forwards, 0, 1)
	if err != nil || len(events) == 0 {
		t.Fatalf("read order %s: %v", id, err)
	}
	tp := strings.Split(events[0].Metadata.TraceParent, "-")
	if len(tp) != 4 || len(tp[1]) != 32 || tp[3] != "01" {
		t.Fatalf("order.placed carries traceparent %q: want a sampled W3C traceparent", events[0].Metadata.TraceParent)
	}
	return tp[1]
}

// span is what the test keeps of an exported span.
type span struct {
	service, name     string
	trace, id, parent string
	kind              tracepb.Span_SpanKind
}

// collector is an OTLP/HTTP trace receiver keeping every span in memory.
type collector struct {
	url   string
	mu    sync.Mutex
	spans []span
}

func newCollector(t *testing.T) *collector {
	t.Helper()
	c := &collector{}
	srv := httptest.NewServer(http.HandlerFunc(c.export))
	t.Cleanup(srv.Close)
	c.url = srv.URL
	return c
}

// export answers POST /v1/traces as an OTLP collector does (binary protobuf).
func (c *collector) export(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" {
		http.NotFound(w, r)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	b, err := io.ReadAll(io.LimitReader(body, 32<<20))
	var req collectortrace.ExportTraceServiceRequest
	if err == nil {
		err = proto.Unmarshal(b, &req)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.add(&req)
	out, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

func (c *collector) add(req *collectortrace.ExportTraceServiceRequest) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		service := ""
		for _, kv := range rs.GetResource().GetAttributes() {
			if kv.GetKey() == "service.name" {
				service = kv.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				c.spans = append(c.spans, span{service: service, name: s.GetName(), trace: hex.EncodeToString(s.GetTraceId()),
					id: hex.EncodeToString(s.GetSpanId()), parent: hex.EncodeToString(s.GetParentSpanId()), kind: s.GetKind()})
			}
		}
	}
}

// trace returns the spans received so far of one trace.
func (c *collector) trace(id string) []span {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []span
	for _, s := range c.spans {
		if s.trace == id {
			out = append(out, s)
		}
	}
	return out
}

// orphaned lists the spans whose parent is not among spans.
func orphaned(spans []span) []string {
	ids := map[string]bool{}
	for _, s := range spans {
		ids[s.id] = true
	}
	var out []string
	for _, s := range spans {
		if s.parent != "" && !ids[s.parent] {
			out = append(out, s.service+"/"+s.name)
		}
	}
	return out
}

func services(spans []span) []string {
	var out []string
	for _, s := range spans {
		if !slices.Contains(out, s.service) {
			out = append(out, s.service)
		}
	}
	slices.Sort(out)
	return out
}

func describe(spans []span) string {
	var b strings.Builder
	for _, s := range spans {
		fmt.Fprintf(&b, "  %s %-12s %-50s parent %s (%s)\n", s.id, s.service, s.name, s.parent, s.kind)
	}
	return b.String()
}
