package e2e

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
)

// client checks what the browser did through the same public API (and
// Mailpit's), so the tests assert on the platform, not only on the page.
type client struct {
	t     *testing.T
	base  string
	token string
}

func apiClient(t *testing.T, base, user string) *client {
	t.Helper()
	c := &client{t: t, base: base}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	c.do(http.MethodPost, "/api/v1/auth/login", map[string]string{"username": user, "password": "demo"}, &tok)
	c.token = tok.AccessToken
	return c
}

// do sends body (as JSON, when not nil) and decodes a 2xx answer into out.
func (c *client) do(method, path string, body, out any) {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	// Not t.Context(): cleanups reset state through here after it ends.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		c.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

type product struct {
	SKU       string `json:"sku"`
	Name      string `json:"name"`
	Available int    `json:"available"`
}

func (c *client) product(sku string) product {
	c.t.Helper()
	var p product
	c.do(http.MethodGet, "/api/v1/products/"+sku, nil, &p)
	return p
}

// waitAvailable polls the catalog until sku shows want, and returns what
// it showed last.
func (c *client) waitAvailable(sku string, want int, timeout time.Duration) int {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := c.product(sku).Available
		if got == want || time.Now().After(deadline) {
			return got
		}
		time.Sleep(300 * time.Millisecond)
	}
}

type faults struct {
	DeclineRate      float64 `json:"decline_rate"`
	ErrorRate        float64 `json:"error_rate"`
	LatencyMS        int     `json:"latency_ms"`
	LostResponseRate float64 `json:"lost_response_rate"`
}

// mailsAbout lists the subjects of the messages in Mailpit that name orderID.
func mailsAbout(t *testing.T, mailpitAPI, orderID string) []string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, strings.TrimSuffix(mailpitAPI, "/")+"/api/v1/messages", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("mailpit: %v", err)
	}
	defer resp.Body.Close()
	var page struct {
		Messages []struct {
			Subject string `json:"Subject"`
			Snippet string `json:"Snippet"`
		} `json:"messages"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		t.Fatalf("mailpit messages: %v", err)
	}
	var out []string
	for _, m := range page.Messages {
		if strings.Contains(m.Subject+m.Snippet, orderID) {
			out = append(out, m.Subject)
		}
	}
	return out
}

func waitMails(t *testing.T, mailpitAPI, orderID string, timeout time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := mailsAbout(t, mailpitAPI, orderID)
		if len(got) > 0 || time.Now().After(deadline) {
			return got
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func orderIDFromHash(hash string) (string, error) {
	id, ok := strings.CutPrefix(hash, "#/orders/")
	if !ok || id == "" {
		return "", fmt.Errorf("not on an order page: %q", hash)
	}
	return id, nil
}

// get GETs path and returns the status and body, whatever the status.
func (c *client) get(path string) (int, []byte) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// timelineEvent is one entry of GET /orders/{id}/timeline (the order
// service's saga.Entry), the shape the shop draws.
type timelineEvent struct {
	Position      string          `json:"position"`
	Stream        string          `json:"stream"`
	Type          string          `json:"type"`
	At            time.Time       `json:"at"`
	CorrelationID string          `json:"correlation_id"`
	CausationID   string          `json:"causation_id"`
	Data          json.RawMessage `json:"data"`
}

// devIdentitySecret is the launcher's default, shared by gateway and services.
const devIdentitySecret = "ordo-dev-identity-secret"

// serviceTimeline asks the order service itself for an order's timeline,
// signing the identity as the gateway does (pkg/web.SignIdentity: e2e does
// not import pkg/web, whose echo dependency it does not otherwise need).
// ok is false when the service does not serve it (no saga wired).
func serviceTimeline(t *testing.T, orderURL, id string) (events []timelineEvent, ok bool) {
	t.Helper()
	if orderURL == "" {
		return nil, false
	}
	payload := "admin;admin;" + strconv.FormatInt(time.Now().Unix(), 10)
	m := hmac.New(sha256.New, []byte(devIdentitySecret))
	m.Write([]byte(payload))
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(orderURL, "/")+"/orders/"+id+"/timeline", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Ordo-Identity", payload+";"+hex.EncodeToString(m.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("order service timeline: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Logf("the order service answers its timeline with %d: %s", resp.StatusCode, b)
		return nil, false
	}
	var body struct {
		Events []timelineEvent `json:"events"`
	}
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatalf("order service timeline: %v in %s", err, b)
	}
	return body.Events, true
}

// sampleTimeline is a made-up timeline in the real shape, for when no
// service can give the real one: a payment declined and compensated.
func sampleTimeline(id string) []timelineEvent {
	types := [][2]string{{"order", "order.placed"}, {"fulfilment", "fulfilment.started"},
		{"fulfilment", "fulfilment.reservation_requested"}, {"stock", "stock.reserved"},
		{"fulfilment", "fulfilment.payment_requested"}, {"payment", "payment.requested"}, {"payment", "payment.declined"},
		{"fulfilment", "fulfilment.compensating"}, {"fulfilment", "fulfilment.release_requested"}, {"stock", "stock.released"},
		{"order", "order.cancelled"}, {"notification", "notification.sent"}, {"fulfilment", "fulfilment.completed"}}
	at := time.Now().Add(-time.Minute)
	out := make([]timelineEvent, len(types))
	for i, x := range types {
		stream := x[0] + "-" + id
		switch x[0] {
		case "stock":
			stream = "stock-SKU-SAMPLE"
		case "notification":
			stream = "notification-" + id + ":order_cancelled"
		}
		out[i] = timelineEvent{Position: fmt.Sprintf("%d.%d", 100+i, 100+i), Stream: stream, Type: x[1],
			At: at.Add(time.Duration(i) * time.Second), CorrelationID: id, CausationID: "sample", Data: json.RawMessage(`{}`)}
	}
	return out
}

// laneOfCategory is the service lane the shop must draw an event in, by
// its stream's category (the part of the stream id before the first "-").
var laneOfCategory = map[string]string{"order": "order", "stock": "inventory", "payment": "payment",
	"notification": "notify", "fulfilment": "saga"}

// mustMark are compensations, which the picture must mark; mustNotMark are
// forward steps it must not.
var (
	mustMark = map[string]bool{"stock.released": true, "payment.refunded": true, "order.cancelled": true,
		"fulfilment.compensating": true, "fulfilment.release_requested": true, "fulfilment.refund_requested": true}
	mustNotMark = map[string]bool{"order.placed": true, "order.confirmed": true, "order.cancellation_requested": true,
		"stock.reserved": true, "stock.committed": true, "payment.requested": true, "payment.captured": true,
		"payment.declined": true, "notification.requested": true, "notification.sent": true,
		"fulfilment.started": true, "fulfilment.completed": true, "fulfilment.payment_requested": true}
)

// drawnEvent is one event mark of the page's svg.timeline.
type drawnEvent struct {
	Type string `json:"type"`
	Lane string `json:"lane"`
	Comp bool   `json:"comp"`
}

// checkDrawn compares the page's timeline with events: one mark each, in
// order, in its stream's lane, compensations marked; it returns how many
// marks were compensations.
func (p *page) checkDrawn(events []timelineEvent) int {
	p.t.Helper()
	sel := fmt.Sprintf(`svg.timeline[data-source="events"][data-events="%d"]`, len(events))
	var drawn []drawnEvent
	p.run("timeline of the events drawn", 15*time.Second, chromedp.WaitVisible(chromedp.CSS(sel)),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			var err error
			drawn, err = chromedp.Evaluate[[]drawnEvent](`[...document.querySelectorAll("svg.timeline g.event")].map((g) =>
				({ type: g.dataset.type, lane: g.dataset.lane, comp: g.classList.contains("compensation") && !!g.querySelector(".ring") }))`)(ctx, t)
			return err
		}))
	if len(drawn) != len(events) {
		p.t.Fatalf("the timeline draws %d events, the API gave %d", len(drawn), len(events))
	}
	comps := 0
	for i, e := range events {
		d := drawn[i]
		want := laneOfCategory[strings.SplitN(e.Stream, "-", 2)[0]]
		if d.Type != e.Type || d.Lane != want {
			p.t.Errorf("event %d (%s in %s) drawn as %s in lane %q, want lane %q", i, e.Type, e.Stream, d.Type, d.Lane, want)
		}
		if mustMark[e.Type] && !d.Comp {
			p.t.Errorf("event %d %s is a compensation but is not marked", i, e.Type)
		}
		if mustNotMark[e.Type] && d.Comp {
			p.t.Errorf("event %d %s is marked as a compensation", i, e.Type)
		}
		if d.Comp {
			comps++
		}
	}
	return comps
}

// timelineAnswer is {"events": events} as the order service answers.
func timelineAnswer(t *testing.T, events []timelineEvent) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"events": events})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// gatewayWithoutTimeline is the gateway's answer before it proxied the
// timeline.
var gatewayWithoutTimeline = []byte(`{"type":"about:blank","title":"Not Implemented","status":501,` +
	`"detail":"the order timeline is not yet available in this version of the gateway"}`)

// serveTimeline makes the browser answer this tab's requests for the
// order's timeline itself (Fetch.requestPaused → fulfillRequest) with
// status and body: the other of the two answers the gateway can give.
func (p *page) serveTimeline(id string, status int, body []byte) {
	p.t.Helper()
	ctype := "application/json"
	if status >= 400 {
		ctype = "application/problem+json"
	}
	paused := chromedp.Events(p.ctx, fetch.RequestPaused) // subscribed before the first request can pause
	p.run("intercept the timeline", 5*time.Second, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{
			{URLPattern: "*/api/v1/orders/" + id + "/timeline*", RequestStage: fetch.RequestStageRequest}}})
		return err
	}))
	go func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			_, _ = chromedp.Call(p.ctx, fetch.FulfillRequest, fetch.FulfillRequestParams{RequestID: ev.RequestID, ResponseCode: int64(status),
				ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: ctype}}, Body: body})
		}
	}()
}
