package upstream

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// backend is a test server that counts the connections it accepted.
type backend struct {
	*httptest.Server
	conns atomic.Int64
}

func newBackend(t *testing.T, h http.HandlerFunc) *backend {
	t.Helper()
	b := &backend{}
	b.Server = httptest.NewUnstartedServer(h)
	b.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			b.conns.Add(1)
		}
	}
	b.Start()
	t.Cleanup(b.Close)
	return b
}

func h1For(t *testing.T, b *backend) (*h1Transport, *http.Client) {
	t.Helper()
	tr := newH1Transport(strings.TrimPrefix(b.URL, "http://"))
	t.Cleanup(tr.CloseIdleConnections)
	return tr, &http.Client{Transport: tr}
}

func call(ctx context.Context, t *testing.T, hc *http.Client, method, url string, body []byte, header ...string) (int, string, error) {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer func() { _ = res.Body.Close() }()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, string(b), err
}

// Calls one after another share one connection, whatever the body's
// framing; a request body arrives whole.
func TestH1KeepsTheConnection(t *testing.T) {
	b := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		in, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/chunked":
			w.WriteHeader(http.StatusOK)
			for i := range 3 {
				_, _ = io.WriteString(w, strings.Repeat(string(rune('a'+i)), 3000))
				w.(http.Flusher).Flush()
			}
		case "/empty":
			w.WriteHeader(http.StatusNoContent)
		default:
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(append([]byte("echo:"), in...))
		}
	})
	_, hc := h1For(t, b)
	ctx := t.Context()
	for range 3 {
		if st, body, err := call(ctx, t, hc, http.MethodPost, b.URL+"/x", []byte(`{"a":1}`)); err != nil || st != 200 || body != `echo:{"a":1}` {
			t.Fatalf("POST: %d %q %v", st, body, err)
		}
		if st, body, err := call(ctx, t, hc, http.MethodGet, b.URL+"/chunked", nil); err != nil || st != 200 || len(body) != 9000 || body[8999] != 'c' {
			t.Fatalf("chunked GET: %d %d bytes %v", st, len(body), err)
		}
		if st, _, err := call(ctx, t, hc, http.MethodGet, b.URL+"/empty", nil); err != nil || st != http.StatusNoContent {
			t.Fatalf("204: %d %v", st, err)
		}
		if st, _, err := call(ctx, t, hc, http.MethodHead, b.URL+"/x", nil); err != nil || st != 200 {
			t.Fatalf("HEAD: %d %v", st, err)
		}
	}
	if n := b.conns.Load(); n != 1 {
		t.Fatalf("%d connections for calls one after another: want 1", n)
	}
}

// An answer with Connection: close, or a body closed before its end, ends
// its connection; the next call dials a new one.
func TestH1DropsConnectionsItCannotKeep(t *testing.T) {
	b := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/close" {
			w.Header().Set("Connection", "close")
		}
		_, _ = io.WriteString(w, strings.Repeat("x", 10000))
	})
	tr, hc := h1For(t, b)
	ctx := t.Context()
	if st, _, err := call(ctx, t, hc, http.MethodGet, b.URL+"/close", nil); err != nil || st != 200 {
		t.Fatalf("%d %v", st, err)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.URL+"/big", nil)
	res, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = res.Body.Read(make([]byte, 10))
	_ = res.Body.Close()
	if st, body, err := call(ctx, t, hc, http.MethodGet, b.URL+"/big", nil); err != nil || st != 200 || len(body) != 10000 {
		t.Fatalf("%d %d bytes %v", st, len(body), err)
	}
	if n := b.conns.Load(); n != 3 {
		t.Fatalf("%d connections: want 3 (none of the first two could be kept)", n)
	}
	tr.mu.Lock()
	idle := len(tr.idle)
	tr.mu.Unlock()
	if idle != 1 {
		t.Fatalf("%d idle connections: want the last one", idle)
	}
}

// A kept connection the backend closed meanwhile (a restart, an idle
// timeout) costs no call anything: one that can be sent again is sent
// again on a new connection, one that cannot goes on a connection seen to
// be open. Either reaches the backend once.
func TestH1SurvivesAConnectionClosedWhileIdle(t *testing.T) {
	var posts atomic.Int64
	b := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			posts.Add(1)
		}
		_, _ = io.WriteString(w, "ok")
	})
	_, hc := h1For(t, b)
	ctx := t.Context()
	for _, c := range []struct {
		method string
		header []string
	}{
		{http.MethodGet, nil},
		{http.MethodPost, []string{"Idempotency-Key", "k-1"}},
		{http.MethodPost, nil},
		{http.MethodPut, nil},
	} {
		if st, _, err := call(ctx, t, hc, http.MethodGet, b.URL+"/", nil); err != nil || st != 200 {
			t.Fatalf("warm-up: %d %v", st, err)
		}
		b.CloseClientConnections()
		time.Sleep(20 * time.Millisecond) // let the close arrive
		before := posts.Load()
		st, body, err := call(ctx, t, hc, c.method, b.URL+"/", []byte("{}"), c.header...)
		if err != nil || st != 200 || body != "ok" {
			t.Errorf("%s %v after the backend closed the connection: %d %q %v", c.method, c.header, st, body, err)
		}
		if n := posts.Load() - before; c.method != http.MethodGet && n != 1 {
			t.Errorf("%s %v reached the backend %d times", c.method, c.header, n)
		}
	}
}

// A call whose connection breaks before the answer is sent again only when
// it may be: a GET or a write with an Idempotency-Key, not a plain write.
func TestH1ReplaysOnlyWhatMayBeSentTwice(t *testing.T) {
	var got atomic.Int64
	b := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/drop" {
			got.Add(1)
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.Close()
			}
			return
		}
		_, _ = io.WriteString(w, "ok")
	})
	_, hc := h1For(t, b)
	ctx := t.Context()
	for _, c := range []struct {
		method string
		header []string
		want   int64
	}{
		{http.MethodGet, nil, 2},
		{http.MethodPost, []string{"Idempotency-Key", "k-1"}, 2},
		{http.MethodPost, nil, 1},
	} {
		if st, _, err := call(ctx, t, hc, http.MethodGet, b.URL+"/", nil); err != nil || st != 200 {
			t.Fatalf("warm-up: %d %v", st, err)
		}
		got.Store(0)
		if _, _, err := call(ctx, t, hc, c.method, b.URL+"/drop", []byte("{}"), c.header...); err == nil {
			t.Errorf("%s %v: no error from a dropped connection", c.method, c.header)
		}
		if n := got.Load(); n != c.want {
			t.Errorf("%s %v reached the backend %d times, want %d", c.method, c.header, n, c.want)
		}
	}
}

// A context that ends cuts the call short with the context's error, and
// the connection is not given back.
func TestH1EndsWithTheContext(t *testing.T) {
	release := make(chan struct{})
	b := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		_, _ = io.WriteString(w, "ok")
	})
	t.Cleanup(func() { close(release) })
	tr, hc := h1For(t, b)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, _, err := call(ctx, t, hc, http.MethodGet, b.URL+"/slow", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("past the deadline: %v, want context.DeadlineExceeded", err)
	}
	ctx, cancel = context.WithCancel(t.Context())
	time.AfterFunc(30*time.Millisecond, cancel)
	if _, _, err := call(ctx, t, hc, http.MethodGet, b.URL+"/slow", nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v, want context.Canceled", err)
	}
	tr.mu.Lock()
	idle := len(tr.idle)
	tr.mu.Unlock()
	if idle != 0 {
		t.Fatalf("%d connections kept after calls cut short", idle)
	}
	if st, body, err := call(t.Context(), t, hc, http.MethodGet, b.URL+"/", nil); err != nil || st != 200 || body != "ok" {
		t.Fatalf("next call: %d %q %v", st, body, err)
	}
}

// BenchmarkTransport compares a backend GET (a catalog-sized answer)
// through net/http's Transport and through h1Transport, both wrapped in an
// http.Client as Client wraps them; the backend runs in the same process:
// go test -run '^$' -bench Transport -cpu 2 ./gateway/internal/upstream/
func BenchmarkTransport(b *testing.B) {
	answer := []byte(`{"items":[` + strings.Repeat(`{"sku":"SKU-0000","name":"a product","price":{"amount":1000,"currency":"EUR"},"available":10},`, 11) + `{}]}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(answer)
	}))
	b.Cleanup(srv.Close)
	for name, rt := range map[string]http.RoundTripper{
		"net-http": &http.Transport{MaxIdleConnsPerHost: 64},
		"h1":       newH1Transport(strings.TrimPrefix(srv.URL, "http://")),
	} {
		b.Run(name, func(b *testing.B) {
			hc := &http.Client{Transport: rt}
			b.ReportAllocs()
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL+"/products", nil)
					res, err := hc.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					if _, err := readAll(res.Body, res.ContentLength); err != nil {
						b.Error(err)
					}
					_ = res.Body.Close()
				}
			})
		})
	}
}
