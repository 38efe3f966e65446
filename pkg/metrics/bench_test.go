package metrics_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ordo-platform/ordo/pkg/metrics"
)

// BenchmarkMiddleware is what recording a request costs: the same route
// served with and without the middleware.
func BenchmarkMiddleware(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := "off"
		if on {
			name = "on"
		}
		b.Run(name, func(b *testing.B) {
			e := echo.New()
			if on {
				e.Use(metrics.NewHTTP(prometheus.NewRegistry()).Middleware())
			}
			e.GET("/orders/:id", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
			req := httptest.NewRequestWithContext(b.Context(), http.MethodGet, "/orders/42", nil)
			b.ReportAllocs()
			for b.Loop() {
				e.ServeHTTP(httptest.NewRecorder(), req)
			}
		})
	}
}
