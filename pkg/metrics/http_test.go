package metrics_test

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ordo-platform/ordo/pkg/metrics"
	"github.com/ordo-platform/ordo/pkg/web"
)

// server is an echo instance like web.New's, with its HTTP families on reg.
func server(reg *prometheus.Registry) *echo.Echo {
	e := echo.New()
	e.HTTPErrorHandler = web.ErrorHandler(slog.New(slog.DiscardHandler))
	e.Use(metrics.NewHTTP(reg).Middleware())
	e.GET("/orders/:id", func(c echo.Context) error { return c.String(http.StatusOK, c.Param("id")) })
	e.POST("/orders", func(c echo.Context) error { return web.Errorf(web.Conflict, "taken") })
	e.GET("/boom", func(echo.Context) error { return errors.New("broken") })
	e.GET(metrics.Path, echo.WrapHandler(metrics.HandlerFor(reg)))
	return e
}

func serve(t *testing.T, e *echo.Echo, method, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), method, path, nil))
	return rec
}

func TestHTTPRecordsRouteTemplatesAndSentStatus(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := server(reg)
	for _, r := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/orders/1", 200},
		{"GET", "/orders/2", 200},
		{"POST", "/orders", 409},
		{"GET", "/boom", 500},
		{"GET", "/nope/123", 404},
		{"GET", "/nope/456", 404},
		{"DELETE", "/orders/1", 405},
		{"BREW", "/orders/1", 405},
		{"GET", "/metrics", 200},
	} {
		if rec := serve(t, e, r.method, r.path); rec.Code != r.status {
			t.Fatalf("%s %s = %d, want %d", r.method, r.path, rec.Code, r.status)
		}
	}
	requests := family(t, reg, "ordo_http_requests_total")
	want := map[string]float64{
		"code=200,method=GET,route=/orders/:id":  2,
		"code=409,method=POST,route=/orders":     1,
		"code=500,method=GET,route=/boom":        1,
		"code=404,method=GET,route=unmatched":    2,
		"code=405,method=DELETE,route=unmatched": 1,
		"code=405,method=other,route=unmatched":  1,
	}
	if got := counts(requests); !equal(got, want) {
		t.Errorf("ordo_http_requests_total = %v, want %v (no /metrics, no raw paths)", got, want)
	}
	durations := family(t, reg, "ordo_http_request_duration_seconds")
	var observed uint64
	for _, m := range durations.GetMetric() {
		observed += m.GetHistogram().GetSampleCount()
	}
	if observed != 8 {
		t.Errorf("ordo_http_request_duration_seconds observed %d requests, want 8", observed)
	}
}

func TestHTTPWritesTheErrorOnce(t *testing.T) {
	reg := prometheus.NewRegistry()
	rec := serve(t, server(reg), "POST", "/orders")
	if ct := rec.Header().Get(echo.HeaderContentType); ct != web.ContentTypeProblem {
		t.Errorf("content type %q, want %s", ct, web.ContentTypeProblem)
	}
	if n := strings.Count(rec.Body.String(), `"status":409`); n != 1 {
		t.Errorf("body %q has %d problems, want 1", rec.Body.String(), n)
	}
}

// A panic is recovered inside the middleware (web.New puts Recover there)
// and counted as the 500 it becomes.
func TestHTTPCountsRecoveredPanics(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := echo.New()
	e.HTTPErrorHandler = web.ErrorHandler(slog.New(slog.DiscardHandler))
	e.Use(metrics.NewHTTP(reg).Middleware())
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			defer func() {
				if r := recover(); r != nil {
					err = errors.New("recovered")
				}
			}()
			return next(c)
		}
	})
	e.GET("/panic", func(echo.Context) error { panic("boom") })
	if rec := serve(t, e, "GET", "/panic"); rec.Code != 500 {
		t.Fatalf("GET /panic = %d, want 500", rec.Code)
	}
	if got, want := counts(family(t, reg, "ordo_http_requests_total")), map[string]float64{"code=500,method=GET,route=/panic": 1}; !equal(got, want) {
		t.Errorf("ordo_http_requests_total = %v, want %v", got, want)
	}
}

// web.New and web.Health give every server the process's families and
// GET /metrics.
func TestWebServesProcessMetrics(t *testing.T) {
	e := web.New(web.Options{Log: slog.New(slog.DiscardHandler)})
	web.Health(e)
	e.GET("/things/:id", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	serve(t, e, "GET", "/things/42")
	rec := serve(t, e, "GET", metrics.Path)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics = %d", rec.Code)
	}
	body := rec.Body.String()
	for _, want := range []string{
		`ordo_http_requests_total{code="204",method="GET",route="/things/:id"}`,
		"# TYPE ordo_http_request_duration_seconds histogram",
		"# TYPE go_goroutines gauge",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("GET /metrics lacks %s", want)
		}
	}
	if strings.Contains(body, `route="/metrics"`) || strings.Contains(body, "/things/42") {
		t.Errorf("GET /metrics counts itself or a raw path:\n%s", body)
	}
}
