// Package httpapi is the order service's HTTP edge: echo handlers for
// placing, reading, listing and cancelling orders, the one place where
// domain errors become problem+json, and the OpenAPI description served at
// GET /openapi.yaml.
//
// Callers are identified only by the gateway's signed Ordo-Identity header;
// a customer sees and cancels only their own orders (another's is 404), an
// admin any. Writes answer 202 with the position of their last event; reads
// come from the Redis read model and honour ?min_position.
package httpapi

import (
	"context"
	_ "embed"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ordo-platform/ordo/pkg/web"
	"github.com/ordo-platform/ordo/services/order/internal/app"
	"github.com/ordo-platform/ordo/services/order/internal/readmodel"
)

// ReadWait bounds how long a read waits for ?min_position.
const ReadWait = 2 * time.Second

// Orders reads the order model.
type Orders interface {
	Get(ctx context.Context, id string) (readmodel.OrderView, error)
	ListByCustomer(ctx context.Context, customer string, limit int, cursor string) (readmodel.Page, error)
}

// Config is what the HTTP edge needs.
type Config struct {
	App    *app.Service
	Orders Orders
	// Waiter is the order projection, for ?min_position.
	Waiter web.Waiter
	// IdentitySecret verifies the gateway's Ordo-Identity header.
	IdentitySecret []byte
	// BodyLimit caps request bodies (echo notation, default "64K").
	BodyLimit string
	Log       *slog.Logger
	// Checks are the readiness checks of /readyz.
	Checks []web.Check
	// Saga serves the saga's views (nil: the routes are not registered).
	Saga SagaViews
}

//go:embed openapi.yaml
var openapi []byte

// New returns the service's echo instance with every route.
func New(cfg Config) *echo.Echo {
	e := web.New(web.Options{BodyLimit: cfg.BodyLimit, Log: cfg.Log})
	web.Health(e, cfg.Checks...)
	e.GET("/openapi.yaml", func(c echo.Context) error {
		return c.Blob(http.StatusOK, "application/yaml", openapi)
	})
	h := handlers{app: cfg.App, orders: cfg.Orders, waiter: cfg.Waiter}
	g := e.Group("/orders", web.RequireIdentity(cfg.IdentitySecret), stampMetadata)
	g.POST("", mapped(h.place))
	g.GET("", mapped(h.list))
	g.GET("/:id", mapped(h.get))
	g.POST("/:id/cancel", mapped(h.cancel))
	registerSaga(e, cfg)
	return e
}
