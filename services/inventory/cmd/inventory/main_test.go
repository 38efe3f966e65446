package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ordo-platform/ordo/pkg/devinfra"
	"github.com/ordo-platform/ordo/pkg/testenv"

	"github.com/ordo-platform/ordo/services/inventory"
)

// TestRunServesAndShutsDown starts the real binary's run on :0: it seeds,
// projects, becomes ready only then, serves the whole catalog at the first
// read after that, and returns nil on cancel.
func TestRunServesAndShutsDown(t *testing.T) {
	dbURL := testenv.Database(t)
	_, prefix := testenv.Redis(t) // cleans the prefix up afterwards
	redisURL := os.Getenv("ORDO_REDIS_URL")
	if redisURL == "" {
		redisURL = devinfra.DefaultRedisURL
	}
	env := map[string]string{"ORDO_INVENTORY_REDIS_PREFIX": prefix, "ORDO_INVENTORY_DATABASE_URL": dbURL}
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--http-addr", "127.0.0.1:0", "--redis-url", redisURL}, func(k string) string { return env[k] }, pw)
		_ = pw.Close()
	}()
	addr := listenAddr(t, pr)

	base := "http://" + addr
	waitReady(t, base)
	var list struct{ Items []struct{ SKU string } }
	getJSON(t, base+"/products", &list)
	if len(list.Items) != len(inventory.DefaultCatalog()) {
		t.Fatalf("GET /products has %d items, want the %d seeded", len(list.Items), len(inventory.DefaultCatalog()))
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after cancel")
	}
}

// listenAddr reads JSON log lines until the "listening" one, then keeps
// draining the log so run never blocks on it.
func listenAddr(t *testing.T, r io.Reader) string {
	t.Helper()
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		var line struct{ Msg, Addr string }
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
			go func() { _, _ = io.Copy(io.Discard, r) }()
			return line.Addr
		}
		if strings.Contains(sc.Text(), `"level":"ERROR"`) {
			t.Log(sc.Text())
		}
	}
	t.Fatalf("run ended before listening: %v", sc.Err())
	return ""
}

// waitReady polls /readyz: the projection starts just before the server.
func waitReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := get(base + "/readyz")
		if err == nil && res == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready: %d %v", res, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func get(url string) (int, error) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode, nil
}

// getJSON reads url into v once: ready means the seeded catalog is
// projected, so there is nothing to wait for.
func getJSON(t *testing.T, url string, v *struct{ Items []struct{ SKU string } }) {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(v); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, res.StatusCode, err)
	}
}

func TestHelpAndBadConfig(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), []string{"--help"}, func(string) string { return "" }, &out); err != nil {
		t.Fatalf("--help: %v", err)
	}
	if !strings.Contains(out.String(), "ORDO_INVENTORY_HTTP_ADDR") {
		t.Errorf("--help does not name the environment variables:\n%s", out.String())
	}
	bad := map[string]string{"ORDO_INVENTORY_LOG_LEVEL": "loud"}
	if err := run(context.Background(), nil, func(k string) string { return bad[k] }, io.Discard); err == nil {
		t.Error("a bad log level started the service")
	}
}
