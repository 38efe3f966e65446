// Package httpapi is the inventory's HTTP adapter: echo handlers for the
// catalog and stock endpoints, the one place where domain errors become
// HTTP problems, and the embedded OpenAPI description.
//
// Reads come from the Redis catalog model and honour ?min_position; writes
// run through internal/app and answer 202 with the position of their last
// event. Writes need the identity the gateway signs; restock needs admin.
package httpapi

import (
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ordo-platform/ordo/pkg/web"

	"github.com/ordo-platform/ordo/services/inventory/internal/app"
	"github.com/ordo-platform/ordo/services/inventory/internal/readmodel"
)

// ReadWait bounds how long a read waits for its min_position.
const ReadWait = 2 * time.Second

// DefaultBodyLimit is the request body limit when Config.BodyLimit is empty:
// the largest valid request is well under 1 KiB.
const DefaultBodyLimit = "16K"

// Config is what the handlers need.
type Config struct {
	App     *app.Service
	Catalog *readmodel.Catalog
	// Waiter is the catalog projection's runner, for ?min_position.
	Waiter web.Waiter
	// IdentitySecret verifies the gateway's Ordo-Identity header.
	IdentitySecret []byte
	// BodyLimit caps request bodies in echo's notation (default 16K).
	BodyLimit string
	Log       *slog.Logger
	// Checks are the readiness checks behind /readyz.
	Checks []web.Check
}

type handlers struct {
	app     *app.Service
	catalog *readmodel.Catalog
	waiter  web.Waiter
}

// New returns the service's echo instance with every route.
func New(cfg Config) *echo.Echo {
	if cfg.BodyLimit == "" {
		cfg.BodyLimit = DefaultBodyLimit
	}
	e := web.New(web.Options{BodyLimit: cfg.BodyLimit, Log: cfg.Log})
	h := handlers{app: cfg.App, catalog: cfg.Catalog, waiter: cfg.Waiter}

	e.GET("/products", mapped(h.listProducts))
	e.GET("/products/:sku", mapped(h.getProduct))
	e.GET("/openapi.yaml", serveOpenAPI)
	web.Health(e, cfg.Checks...)

	// Identity is route middleware, not a group's: a group on "" would
	// answer 404 instead of 405 to a wrong method on these paths.
	auth := web.RequireIdentity(cfg.IdentitySecret)
	e.POST("/products/:sku/restock", mapped(h.restock), auth, web.RequireRole(web.RoleAdmin))
	e.POST("/stock/:sku/reservations", mapped(h.reserve), auth)
	e.POST("/stock/:sku/reservations/:order_id/release", mapped(h.release), auth)
	e.POST("/stock/:sku/reservations/:order_id/commit", mapped(h.commit), auth)
	return e
}
