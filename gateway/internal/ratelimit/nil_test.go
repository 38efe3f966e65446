package ratelimit

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// A nil Limiter (--rate-limits=false) admits everything and adds no
// headers, without touching Redis.
func TestNilLimiterAdmitsEverything(t *testing.T) {
	var l *Limiter
	e := echo.New()
	e.GET("/", func(c echo.Context) error { return c.NoContent(http.StatusOK) },
		l.Middleware(Policy{Name: "addr", Rate: 1, Burst: 1}, func(echo.Context) string { return "k" }, ModeByMethod,
			time.Second, slog.Default()))
	for range 5 {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/", nil))
		if rec.Code != http.StatusOK || rec.Header().Get("RateLimit") != "" {
			t.Fatalf("answer %d with RateLimit %q", rec.Code, rec.Header().Get("RateLimit"))
		}
	}
}
