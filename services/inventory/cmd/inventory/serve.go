package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/metrics"
	"github.com/ordo-platform/ordo/pkg/park"
	"github.com/ordo-platform/ordo/pkg/park/parkapi"
	"github.com/ordo-platform/ordo/pkg/platform"
	"github.com/ordo-platform/ordo/pkg/projection"
	"github.com/ordo-platform/ordo/pkg/web"

	"github.com/ordo-platform/ordo/services/inventory"
	"github.com/ordo-platform/ordo/services/inventory/internal/app"
	"github.com/ordo-platform/ordo/services/inventory/internal/httpapi"
	"github.com/ordo-platform/ordo/services/inventory/internal/readmodel"
)

// serve opens the clients, seeds, and runs the projection and the HTTP API
// until ctx ends. Deferred steps run in reverse: HTTP has stopped when
// serve's last line returns, then the projection stops, then Redis and the
// store close.
func serve(ctx context.Context, cfg Config, log *slog.Logger) error {
	store, closeStore, err := platform.OpenStore(ctx, cfg.DatabaseURL, log)
	if err != nil {
		return err
	}
	defer closeStore()
	rdb, err := platform.OpenRedis(ctx, cfg.RedisURL)
	if err != nil {
		return err
	}
	defer func() { _ = rdb.Close() }()

	svc := app.New(store, app.Options{Retries: cfg.Retries})
	seeded, err := seed(ctx, svc, cfg.SeedTimeout, log)
	if err != nil {
		return err
	}
	lot := park.New(store, platform.Parking(store, rdb, cfg.RedisPrefix), park.Options{Log: log, OnPark: platform.CountParked()})
	runner, err := projection.New(store, rdb, readmodel.Projection(), projection.Options{Prefix: cfg.RedisPrefix, Log: log, Park: lot})
	if err != nil {
		return err
	}
	defer metrics.WatchProjection(runner)()
	projectionCheck, stopProjection := platform.Supervise("projection", "catalog projection", runner.Run, log)
	defer func() { stopProjection(); runner.Close() }()
	participantCheck, stopParticipant := startParticipant(store, rdb, svc, lot, cfg, log)
	defer stopParticipant()

	e := httpapi.New(httpapi.Config{
		App:            svc,
		Catalog:        readmodel.NewCatalog(rdb, cfg.RedisPrefix),
		Waiter:         runner,
		IdentitySecret: []byte(cfg.IdentitySecret),
		BodyLimit:      cfg.BodyLimit,
		Log:            log,
		Checks:         append(checks(store, rdb), projectionCheck, catalogCheck(runner, seeded), participantCheck),
	})
	parkapi.Mount(e, lot, web.RequireIdentity([]byte(cfg.IdentitySecret)), web.RequireRole(web.RoleAdmin))
	e.GET("/admin/projections", echo.WrapHandler(metrics.ProjectionsHandler()), web.RequireIdentity([]byte(cfg.IdentitySecret)), web.RequireRole(web.RoleAdmin))
	return web.Serve(ctx, e, cfg.HTTPAddr, func(a net.Addr) { log.Info("listening", "addr", a.String()) })
}

// seed writes the default catalog (what is there already stays) and
// returns the position of its last event.
func seed(ctx context.Context, svc *app.Service, timeout time.Duration, log *slog.Logger) (es.Position, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	pos, err := svc.Seed(ctx, inventory.DefaultCatalog())
	if err != nil {
		return es.Start, fmt.Errorf("seed catalog: %w", err)
	}
	log.Info("catalog seeded", "products", len(inventory.DefaultCatalog()), "position", pos.String())
	return pos, nil
}

// catalogCheck keeps the service unready until the catalog read model has
// caught up with the seed: a caller told "ready" must not find the shop
// empty. It also fails while a lost read model is being rebuilt.
func catalogCheck(runner *projection.Runner, seeded es.Position) web.Check {
	return web.Check{Name: "catalog", Run: func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		defer cancel()
		if err := runner.WaitFor(ctx, seeded); err != nil {
			return fmt.Errorf("catalog not yet projected up to the seed at %s: %w", seeded, err)
		}
		return nil
	}}
}

func checks(store es.Store, rdb *redis.Client) []web.Check {
	return []web.Check{
		{Name: "event-store", Run: func(ctx context.Context) error { _, err := store.Head(ctx); return err }},
		{Name: "redis", Run: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }},
	}
}
