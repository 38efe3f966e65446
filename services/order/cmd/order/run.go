package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"slices"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/metrics"
	"github.com/ordo-platform/ordo/pkg/park"
	"github.com/ordo-platform/ordo/pkg/park/parkapi"
	"github.com/ordo-platform/ordo/pkg/platform"
	"github.com/ordo-platform/ordo/pkg/projection"
	"github.com/ordo-platform/ordo/pkg/tracing"
	"github.com/ordo-platform/ordo/pkg/web"
	"github.com/ordo-platform/ordo/services/inventory"
	"github.com/ordo-platform/ordo/services/order"
	"github.com/ordo-platform/ordo/services/order/internal/app"
	"github.com/ordo-platform/ordo/services/order/internal/httpapi"
	"github.com/ordo-platform/ordo/services/order/internal/readmodel"
)

// run starts the service and blocks until ctx ends, then shuts down in
// reverse order: HTTP, projections, clients.
func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	cfg, loader, err := loadConfig(args, getenv, out)
	if err != nil {
		return err
	}
	log, err := newLogger(cfg, out)
	if err != nil {
		return err
	}
	log.Info("config", "config", loader)
	stopTracing, err := tracing.Setup(ctx, "order")
	if err != nil {
		return err
	}
	defer func() {
		if err := stopTracing(context.WithoutCancel(ctx)); err != nil {
			log.Warn("traces not flushed", "err", err)
		}
	}()

	// The saga runner shares this process's pool with the API and the
	// projections: 8 connections, not pgx's 4, unless the URL says
	// (measured: +28% sagas/s at 64 clients on 2 cores; docs/benchmarks.md).
	store, closeStore, err := platform.OpenStore(ctx, platform.WithPoolSize(cfg.DatabaseURL, orderPoolSize), log)
	if err != nil {
		return err
	}
	defer closeStore()
	rdb, err := platform.OpenRedis(ctx, cfg.RedisURL)
	if err != nil {
		return err
	}
	defer func() { _ = rdb.Close() }()

	reg := es.NewRegistry()
	order.Register(reg)
	inventory.Register(reg)
	lot := park.New(store, platform.Parking(store, rdb, cfg.RedisPrefix), park.Options{Log: log, OnPark: platform.CountParked()})
	popts := projection.Options{Prefix: cfg.RedisPrefix, Log: log, Park: lot}
	prices, err := projection.New(store, rdb, readmodel.Prices(reg), popts)
	if err != nil {
		return err
	}
	orders, err := projection.New(store, rdb, readmodel.Orders(reg), popts)
	if err != nil {
		return err
	}
	defer metrics.WatchProjection(prices)()
	defer metrics.WatchProjection(orders)()

	projChecks, stopProjections := superviseProjections(log, prices, orders)
	defer func() {
		stopProjections()
		prices.Close()
		orders.Close()
	}()

	svc := app.New(store, reg, readmodel.NewCatalog(rdb, cfg.RedisPrefix, store, prices, cfg.PriceSettle))
	sagaRunner, sagaChecks, stopSaga := startSaga(store, rdb, svc, lot, cfg, log)
	defer stopSaga()

	e := httpapi.New(httpapi.Config{
		App:            svc,
		Orders:         readmodel.NewOrderReader(rdb, cfg.RedisPrefix),
		Waiter:         orders,
		IdentitySecret: []byte(cfg.IdentitySecret),
		BodyLimit:      cfg.BodyLimit,
		Log:            log,
		Checks:         slices.Concat(checks(store, rdb), projChecks, sagaChecks),
		Saga:           sagaRunner,
	})
	parkapi.Mount(e, lot, web.RequireIdentity([]byte(cfg.IdentitySecret)), web.RequireRole(web.RoleAdmin))
	e.GET("/admin/projections", echo.WrapHandler(metrics.ProjectionsHandler()), web.RequireIdentity([]byte(cfg.IdentitySecret)), web.RequireRole(web.RoleAdmin))
	err = web.Serve(ctx, e, cfg.HTTPAddr, func(a net.Addr) { log.Info("listening", "addr", a.String()) })
	log.Info("shutting down", "err", err)
	return err
}

func checks(store es.Store, rdb *redis.Client) []web.Check {
	return []web.Check{
		{Name: "event-store", Run: func(ctx context.Context) error { _, err := store.Head(ctx); return err }},
		{Name: "redis", Run: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }},
	}
}

// superviseProjections keeps each projection running (platform.Supervise:
// restarted after an error, from its checkpoint in Redis), with a check
// "projection-<name>" each. stop ends them all and waits.
func superviseProjections(log *slog.Logger, runners ...*projection.Runner) (checks []web.Check, stop func()) {
	var stops []func()
	for _, r := range runners {
		c, s := platform.Supervise("projection-"+r.Name(), r.Name()+" projection", r.Run, log)
		checks, stops = append(checks, c), append(stops, s)
	}
	return checks, func() {
		for _, s := range stops {
			s()
		}
	}
}

// orderPoolSize is the order service's default PostgreSQL pool size.
const orderPoolSize = 8
