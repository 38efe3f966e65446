package metrics

import (
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// RouteUnmatched is the route label of a request no route matched (404,
// 405): the raw path would let any client mint new series.
const RouteUnmatched = "unmatched"

// HTTP records the requests an echo server answers.
type HTTP struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewHTTP registers the HTTP request families on reg.
func NewHTTP(reg prometheus.Registerer) *HTTP {
	h := &HTTP{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ordo_http_requests_total",
			Help: "HTTP requests answered, by method, route template and status code.",
		}, []string{"method", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ordo_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by method and route template.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"}),
	}
	reg.MustRegister(h.requests, h.duration)
	return h
}

var processHTTP = sync.OnceValue(func() *HTTP { return NewHTTP(Registry()) })

// Middleware records every request but those to /metrics itself on the
// process's registry.
func Middleware() echo.MiddlewareFunc { return processHTTP().Middleware() }

// Middleware records each request's method, route template (c.Path()) and
// status. Use it first: it writes a handler's error through the echo error
// handler itself, as echo would, so that the status it records is the one
// sent, and returns nil.
func (h *HTTP) Middleware() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if c.Path() == Path {
				return next(c)
			}
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			route, method := routeOf(c, err), methodOf(c.Request().Method)
			h.requests.WithLabelValues(method, route, strconv.Itoa(c.Response().Status)).Inc()
			h.duration.WithLabelValues(method, route).Observe(time.Since(start).Seconds())
			return nil
		}
	}
}

// methodOf keeps the method label to the standard methods: a client may
// send any token there.
func methodOf(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}

// routeOf is the request's route template, or RouteUnmatched when the
// router found no handler: echo then reports the closest node's path or
// nothing, and returns its not-found or method-not-allowed error.
func routeOf(c echo.Context, err error) string {
	if c.Path() == "" || errors.Is(err, echo.ErrNotFound) || errors.Is(err, echo.ErrMethodNotAllowed) {
		return RouteUnmatched
	}
	return c.Path()
}
