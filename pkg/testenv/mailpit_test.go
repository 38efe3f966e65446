package testenv

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestMailpitStartsAndStops: the returned addresses answer during the test
// and are gone after its cleanup.
func TestMailpitStartsAndStops(t *testing.T) {
	var smtp, api string
	t.Run("inner", func(t *testing.T) {
		smtp, api = Mailpit(t)
		conn, err := (&net.Dialer{Timeout: 5 * time.Second}).DialContext(t.Context(), "tcp", smtp)
		if err != nil {
			t.Fatalf("dial smtp: %v", err)
		}
		defer func() { _ = conn.Close() }()
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		greeting, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil || !strings.HasPrefix(greeting, "220") {
			t.Errorf("smtp greeting %q, %v", greeting, err)
		}
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, api+"/api/v1/messages", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("api: %v", err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET /api/v1/messages: %s", resp.Status)
		}
	})
	if conn, err := (&net.Dialer{Timeout: time.Second}).DialContext(t.Context(), "tcp", smtp); err == nil {
		_ = conn.Close()
		t.Errorf("smtp %s still answers after the test ended", smtp)
	}
}
