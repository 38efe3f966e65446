package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/web"
)

type line struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

type waiter struct{ at es.Position }

func (w waiter) WaitFor(ctx context.Context, p es.Position) error {
	if !w.at.Less(p) {
		return nil
	}
	<-ctx.Done()
	return ctx.Err()
}

func server(t *testing.T) *echo.Echo {
	t.Helper()
	e := web.New(web.Options{BodyLimit: "1K", Log: slog.New(slog.DiscardHandler)})
	e.POST("/lines", func(c echo.Context) error {
		var l line
		if err := web.Bind(c, &l); err != nil {
			return err
		}
		return c.JSON(http.StatusCreated, l)
	})
	e.GET("/boom", func(echo.Context) error { return errors.New("secret database password in here") })
	e.GET("/conflict", func(echo.Context) error { return fmt.Errorf("save: %w", &es.ConcurrencyError{Stream: "order-1"}) })
	e.GET("/read", func(c echo.Context) error {
		if err := web.AwaitMinPosition(c, waiter{at: es.Position{Commit: 5, Prepare: 9}}, 50*time.Millisecond); err != nil {
			return err
		}
		return c.String(http.StatusOK, "fresh")
	})
	web.Health(e, web.Check{Name: "db", Run: func(context.Context) error { return errors.New("down") }})
	return e
}

func do(t *testing.T, e *echo.Echo, method, path, ctype, body string) (*httptest.ResponseRecorder, web.Problem) {
	t.Helper()
	req := httptest.NewRequestWithContext(context.Background(), method, path, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	var p web.Problem
	if rec.Header().Get("Content-Type") == web.ContentTypeProblem {
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
			t.Fatalf("problem body %q: %v", rec.Body.String(), err)
		}
	}
	return rec, p
}

func TestProblems(t *testing.T) {
	e := server(t)
	const js = "application/json"
	tests := []struct {
		name, method, path, ctype, body string
		status                          int
		typ, detail                     string
	}{
		{"unknown route", "GET", "/nope", "", "", 404, "not-found", "no such resource"},
		{"malformed JSON", "POST", "/lines", js, `{"sku":`, 400, "invalid", "malformed JSON"},
		{"unknown field", "POST", "/lines", js, `{"sku":"A","quantity":1,"price":5}`, 400, "invalid", `unknown field "price"`},
		{"wrong type", "POST", "/lines", js, `{"sku":"A","quantity":"two"}`, 400, "invalid", `field "quantity" must be an integer, not string`},
		{"empty body", "POST", "/lines", js, ``, 400, "invalid", "request body is empty"},
		{"two values", "POST", "/lines", js, `{"sku":"A"} {}`, 400, "invalid", "data after its JSON value"},
		{"not JSON media type", "POST", "/lines", "text/plain", `{}`, 400, "invalid", "send application/json"},
		{"array instead of object", "POST", "/lines", js, `[1]`, 400, "invalid", "must be a JSON an object"},
		{"too large", "POST", "/lines", js, `{"sku":"` + strings.Repeat("x", 2000) + `"}`, 413, "too-large", "larger than"},
		{"internal error hides cause", "GET", "/boom", "", "", 500, "internal", "internal error"},
		{"concurrency conflict", "GET", "/conflict", "", "", 409, "concurrent-update", "changed by another request"},
		{"bad min_position", "GET", "/read?min_position=7", "", "", 400, "invalid", "min_position"},
		{"not caught up", "GET", "/read?min_position=6.1", "", "", 503, "not-caught-up", "has not reached position 6.1"},
		{"wrong method", "DELETE", "/lines", "", "", 405, "http-405", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, p := do(t, e, tt.method, tt.path, tt.ctype, tt.body)
			if res.Code != tt.status || p.Status != tt.status {
				t.Fatalf("status %d (problem %d), want %d", res.Code, p.Status, tt.status)
			}
			if p.Type != web.ProblemTypeBase+tt.typ || !strings.Contains(p.Detail, tt.detail) || p.Title == "" {
				t.Fatalf("problem %+v, want type %s and detail containing %q", p, tt.typ, tt.detail)
			}
			if strings.Contains(p.Detail, "secret") {
				t.Fatal("internal cause leaked")
			}
		})
	}
	if res, _ := do(t, e, "GET", "/read?min_position=6.1", "", ""); res.Header().Get("Retry-After") != "1" {
		t.Error("not-caught-up answer has no Retry-After")
	}
	if res, _ := do(t, e, "GET", "/read?min_position=5.9", "", ""); res.Code != 200 {
		t.Errorf("caught-up read: status %d", res.Code)
	}
	if res, _ := do(t, e, "POST", "/lines", "application/json; charset=utf-8", `{"sku":"A","quantity":2}`); res.Code != 201 {
		t.Errorf("good body: status %d", res.Code)
	}
}

func TestHealth(t *testing.T) {
	e := server(t)
	if res, _ := do(t, e, "GET", "/healthz", "", ""); res.Code != 200 {
		t.Errorf("healthz %d", res.Code)
	}
	if res, _ := do(t, e, "GET", "/readyz", "", ""); res.Code != 503 {
		t.Errorf("readyz with a failing check: %d, want 503", res.Code)
	}
}

func TestServeShutsDown(t *testing.T) {
	e := server(t)
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- web.Serve(ctx, e, "127.0.0.1:0", func(a net.Addr) { addrc <- a }) }()
	addr := <-addrc
	req, _ := http.NewRequestWithContext(context.Background(), "GET", "http://"+addr.String()+"/healthz", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
}
