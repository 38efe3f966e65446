package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
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
