// Package httpapi is the gateway's public HTTP API, /api/v1 as
// shared/API.md and the embedded openapi.yaml describe it: login, the
// catalog, the customer's orders (placement made idempotent, the order view
// aggregated from three backends), the admin routes, and the edge every
// request passes (header hygiene, rate limits, auth).
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"

	"github.com/ordo-platform/ordo/gateway/internal/auth"
	"github.com/ordo-platform/ordo/gateway/internal/idempotency"
	"github.com/ordo-platform/ordo/gateway/internal/ratelimit"
	"github.com/ordo-platform/ordo/gateway/internal/shop"
	"github.com/ordo-platform/ordo/gateway/internal/upstream"
	"github.com/ordo-platform/ordo/pkg/web"
)

// Backends are the services behind the gateway.
type Backends struct {
	Order, Inventory, Payment, Notify, Simulator *upstream.Client
}

func (b Backends) all() []*upstream.Client {
	return []*upstream.Client{b.Order, b.Inventory, b.Payment, b.Notify, b.Simulator}
}

// Timeouts bound each route class, the backend calls included.
type Timeouts struct {
	Read      time.Duration // catalog, order list, single backend reads
	Write     time.Duration // place, cancel, restock, faults
	OrderView time.Duration // the aggregated order view, all three calls
	Admin     time.Duration // status probes
	Redis     time.Duration // one rate-limit or idempotency round trip
}

// Config is what the gateway's HTTP API needs.
type Config struct {
	Log         *slog.Logger
	Users       *auth.Users
	Tokens      *auth.Tokens
	Redis       redis.UniversalClient
	Limiter     *ratelimit.Limiter
	UserLimit   ratelimit.Policy
	AddrLimit   ratelimit.Policy
	Idempotency *idempotency.Store
	Backends    Backends
	Timeouts    Timeouts
	// Cache holds the last good payment and notifications per order.
	Cache *Cache
	// BodyLimit caps request bodies (echo notation); HeaderLimit caps the
	// request headers in bytes (431 above it).
	BodyLimit   string
	HeaderLimit int
	// TrustProxy takes the client address from X-Forwarded-For; only turn
	// it on behind a proxy that sets that header itself.
	TrustProxy bool
}

type handlers struct {
	cfg Config
	be  Backends
	to  Timeouts
	log *slog.Logger
}

// New returns the gateway's echo instance with every route.
func New(cfg Config) *echo.Echo {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	e := web.New(web.Options{BodyLimit: cfg.BodyLimit, Log: cfg.Log})
	e.HTTPErrorHandler = errorHandler(cfg.Log)
	e.IPExtractor = echo.ExtractIPDirect()
	if cfg.TrustProxy {
		e.IPExtractor = echo.ExtractIPFromXFFHeader()
	}
	e.Pre(edge(cfg.HeaderLimit))
	h := &handlers{cfg: cfg, be: cfg.Backends, to: cfg.Timeouts, log: cfg.Log}
	h.routes(e)
	shop.Register(e) // the demo shop at / and /shop/*, a client of /api/v1 like any other
	web.Health(e, web.Check{Name: "redis", Run: func(ctx context.Context) error { return cfg.Redis.Ping(ctx).Err() }})
	return e
}

func (h *handlers) routes(e *echo.Echo) {
	byAddr := ratelimit.Rule{Policy: h.cfg.AddrLimit, Key: func(c echo.Context) string { return c.RealIP() }}
	byUser := ratelimit.Rule{Policy: h.cfg.UserLimit, Key: func(c echo.Context) string {
		id, _ := auth.Caller(c)
		return id.User
	}}
	opts := ratelimit.Options{Mode: ratelimit.ModeByMethod, Timeout: h.to.Redis, Log: h.log}
	// Reads that only fetch from backends (GETs, retried as idempotent)
	// may start beside their rate-limit decision; see ratelimit.Options.
	reads := opts
	reads.Speculate = true
	public := h.cfg.Limiter.Limit([]ratelimit.Rule{byAddr}, opts)
	publicRead := h.cfg.Limiter.Limit([]ratelimit.Rule{byAddr}, reads)
	// The address limit covers every request, a valid token or not; the
	// caller's own limit those with one. Identify finds the caller first so
	// both are decided in one round trip; Require then refuses the rest.
	authed := []echo.MiddlewareFunc{auth.Identify(h.cfg.Tokens),
		h.cfg.Limiter.Limit([]ratelimit.Rule{byAddr, byUser}, opts), auth.Require(h.cfg.Tokens)}
	authedRead := []echo.MiddlewareFunc{auth.Identify(h.cfg.Tokens),
		h.cfg.Limiter.Limit([]ratelimit.Rule{byAddr, byUser}, reads), auth.Require(h.cfg.Tokens)}
	admin := append(authed[:len(authed):len(authed)], auth.RequireRole(web.RoleAdmin))
	idem := h.cfg.Idempotency.Middleware(func(c echo.Context) string {
		id, _ := auth.Caller(c)
		return id.User
	}, h.to.Redis, h.log)

	const v1 = "/api/v1"
	e.GET(v1+"/openapi.yaml", serveOpenAPI)
	e.POST(v1+"/auth/login", h.login, public)
	e.GET(v1+"/products", h.listProducts, publicRead)
	e.GET(v1+"/products/:sku", h.getProduct, publicRead)

	e.POST(v1+"/orders", h.placeOrder, append(authed[:len(authed):len(authed)], idem)...)
	e.GET(v1+"/orders", h.listOrders, authedRead...)
	e.GET(v1+"/orders/:id", h.getOrder, authedRead...)
	e.POST(v1+"/orders/:id/cancel", h.cancelOrder, authed...)
	e.GET(v1+"/orders/:id/timeline", h.timeline, authedRead...)

	e.POST(v1+"/admin/products/:sku/restock", h.restock, admin...)
	e.GET(v1+"/admin/status", h.status, admin...)
	e.GET(v1+"/admin/faults", h.getFaults, admin...)
	e.PUT(v1+"/admin/faults", h.putFaults, admin...)
}

// call prepares a backend request on behalf of the caller (nil identity
// for public reads), carrying the request id and trace context.
func (h *handlers) call(c echo.Context, method, path string, timeout time.Duration) upstream.Request {
	r := upstream.Request{
		Method: method, Path: path, Timeout: timeout,
		RequestID: c.Response().Header().Get(echo.HeaderXRequestID),
	}
	r.TraceParent, r.TraceState = traceContext(c)
	if id, ok := auth.Caller(c); ok {
		r.Identity = &id
	}
	return r
}

// timeline relays the order service's timeline: every event of every service
// that belongs to the order, in global order. The order service checks that
// the caller owns the order (another customer's answers 404).
func (h *handlers) timeline(c echo.Context) error {
	id := c.Param("id")
	if !orderIDRE.MatchString(id) {
		return web.Errorf(web.NotFound, "order %q not found", id)
	}
	r := h.call(c, http.MethodGet, "/orders/"+url.PathEscape(id)+"/timeline", h.to.Read)
	return h.proxy(c, h.be.Order, r)
}
