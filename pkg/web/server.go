package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/ordo-platform/ordo/pkg/metrics"
	"github.com/ordo-platform/ordo/pkg/tracing"
)

// Options configure New.
type Options struct {
	// BodyLimit caps request bodies, in echo's notation ("64K", default).
	BodyLimit string
	// Log receives request and error logs (default slog.Default()).
	Log *slog.Logger
}

// New returns an echo instance with ordo's edge: request metrics
// (metrics.Middleware), problem+json errors, panic recovery, request ids, a
// server span per request (tracing.Middleware), a body limit (413 above it)
// and one structured log line per request.
func New(opts Options) *echo.Echo {
	if opts.BodyLimit == "" {
		opts.BodyLimit = "64K"
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = ErrorHandler(opts.Log)
	e.Use(metrics.Middleware())
	e.Use(middleware.Recover())
	e.Use(middleware.RequestID())
	e.Use(tracing.Middleware())
	e.Use(middleware.BodyLimit(opts.BodyLimit))
	e.Use(requestLog(opts.Log))
	return e
}

func requestLog(log *slog.Logger) echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogURI: true, LogMethod: true, LogLatency: true, LogRequestID: true, LogError: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			log.DebugContext(c.Request().Context(), "request", "method", v.Method, "uri", v.URI, "status", v.Status,
				"latency", v.Latency, "request_id", v.RequestID)
			return nil
		},
	})
}

// Check is one readiness check: a dependency that must answer.
type Check struct {
	Name string
	Run  func(ctx context.Context) error
}

// Health registers GET /healthz (the process is alive), GET /readyz
// (every check passes within two seconds; 503 with the failures otherwise)
// and GET /metrics (the process's Prometheus metrics).
func Health(e *echo.Echo, checks ...Check) {
	e.GET(metrics.Path, echo.WrapHandler(metrics.Handler()))
	e.GET("/healthz", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	})
	e.GET("/readyz", func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
		defer cancel()
		failed := map[string]string{}
		for _, ch := range checks {
			if err := ch.Run(ctx); err != nil {
				failed[ch.Name] = err.Error()
			}
		}
		if len(failed) > 0 {
			return c.JSON(http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "failed": failed})
		}
		return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
	})
}

// Serve listens on addr (":0" picks a free port), reports the bound
// address to onListen (may be nil), and serves until ctx ends; then it
// stops taking connections and waits up to ten seconds for requests in
// flight.
func Serve(ctx context.Context, e *echo.Echo, addr string, onListen func(net.Addr)) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 5 * time.Second, MaxHeaderBytes: 64 << 10}
	if onListen != nil {
		onListen(ln.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shut down %s: %w", ln.Addr(), err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
