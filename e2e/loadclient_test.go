package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// loadClient talks to the gateway from many goroutines: unlike client (of
// the browser tests) it returns errors instead of failing the test, since
// t.Fatal must not be called off the test's goroutine, and a refused call
// is an expected answer while services are being killed.
type loadClient struct {
	base  string
	token string
	hc    *http.Client
}

// statusError is a non-2xx answer.
type statusError struct {
	Method, Path string
	Status       int
	Body         string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.Status, e.Body)
}

func newLoadClient(ctx context.Context, base, user string) (*loadClient, error) {
	c := &loadClient{base: base, hc: &http.Client{Timeout: 15 * time.Second}}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	err := c.call(ctx, http.MethodPost, "/api/v1/auth/login", nil, map[string]string{"username": user, "password": "demo"}, &tok)
	c.token = tok.AccessToken
	return c, err
}

// call sends body as JSON (when not nil) with the extra headers and
// decodes a 2xx answer into out (when not nil).
func (c *loadClient) call(ctx context.Context, method, path string, hdr map[string]string, body, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return &statusError{Method: method, Path: path, Status: resp.StatusCode, Body: string(b)}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: %w in %s", method, path, err, b)
	}
	return nil
}

// retry calls f until it succeeds, answers with a status that retrying
// cannot change (400, 401, 403, 404, 413, 422), or within passes. It waits
// a little between tries: a killed service needs a moment to come back.
func retry(ctx context.Context, within time.Duration, f func(context.Context) error) error {
	deadline := time.Now().Add(within)
	wait := 50 * time.Millisecond
	for {
		err := f(ctx)
		if err == nil || final4xx(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Second)
	}
}

func final4xx(err error) bool {
	var se *statusError
	if !errors.As(err, &se) {
		return false
	}
	switch se.Status {
	case 400, 401, 403, 404, 413, 422:
		return true
	}
	return false
}

type loadLine struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

type loadOrder struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

func (o loadOrder) final() bool { return o.Status == "confirmed" || o.Status == "cancelled" }

// place places an order under key, retrying with the same key (the
// gateway replays the first answer) until it is accepted.
func (c *loadClient) place(ctx context.Context, key string, lines []loadLine, within time.Duration) (loadOrder, error) {
	var o loadOrder
	err := retry(ctx, within, func(ctx context.Context) error {
		return c.call(ctx, http.MethodPost, "/api/v1/orders", map[string]string{"Idempotency-Key": key},
			map[string]any{"lines": lines}, &o)
	})
	return o, err
}

func (c *loadClient) order(ctx context.Context, id string) (loadOrder, error) {
	var o loadOrder
	err := c.call(ctx, http.MethodGet, "/api/v1/orders/"+id, nil, nil, &o)
	return o, err
}

// loadFaults are the provider simulator's knobs (PUT /api/v1/admin/faults).
type loadFaults struct {
	DeclineRate      float64 `json:"decline_rate"`
	ErrorRate        float64 `json:"error_rate"`
	LatencyMS        int     `json:"latency_ms"`
	LostResponseRate float64 `json:"lost_response_rate"`
}

func (c *loadClient) setFaults(ctx context.Context, f loadFaults) error {
	return retry(ctx, 30*time.Second, func(ctx context.Context) error {
		return c.call(ctx, http.MethodPut, "/api/v1/admin/faults", nil, f, nil)
	})
}

func (c *loadClient) restock(ctx context.Context, sku string, n int) error {
	return retry(ctx, 30*time.Second, func(ctx context.Context) error {
		return c.call(ctx, http.MethodPost, "/api/v1/admin/products/"+sku+"/restock", nil, map[string]int{"quantity": n}, nil)
	})
}

type loadProduct struct {
	SKU       string `json:"sku"`
	Available int    `json:"available"`
}

func (c *loadClient) products(ctx context.Context) ([]loadProduct, error) {
	var list struct {
		Items []loadProduct `json:"items"`
	}
	err := retry(ctx, 30*time.Second, func(ctx context.Context) error {
		return c.call(ctx, http.MethodGet, "/api/v1/products", nil, nil, &list)
	})
	return list.Items, err
}
