package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net"

	"github.com/labstack/echo/v4"

	"github.com/ordo-platform/ordo/pkg/config"
	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/metrics"
	"github.com/ordo-platform/ordo/pkg/park"
	"github.com/ordo-platform/ordo/pkg/park/parkapi"
	"github.com/ordo-platform/ordo/pkg/platform"
	"github.com/ordo-platform/ordo/pkg/tracing"
	"github.com/ordo-platform/ordo/pkg/web"
	"github.com/ordo-platform/ordo/services/payment"
	"github.com/ordo-platform/ordo/services/payment/internal/app"
	"github.com/ordo-platform/ordo/services/payment/internal/httpapi"
	"github.com/ordo-platform/ordo/services/payment/internal/provider"
	"github.com/ordo-platform/ordo/services/payment/internal/readmodel"
)

// run starts the service and serves until ctx ends; then it shuts down in
// reverse order: HTTP, then the projection and the reconciler, then clients.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, l, err := load(args, getenv, stdout)
	if err != nil {
		return err
	}
	if cfg.BreakerFailures < 1 || int64(cfg.BreakerFailures) > math.MaxUint32 {
		return fmt.Errorf("breaker-failures is %d; it must be between 1 and %d", cfg.BreakerFailures, uint64(math.MaxUint32))
	}
	log, err := config.NewLogger(stdout, cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		return err
	}
	log.Info("config", "settings", l)
	stopTracing, err := tracing.Setup(ctx, "payment")
	if err != nil {
		return err
	}
	defer func() {
		if err := stopTracing(context.WithoutCancel(ctx)); err != nil {
			log.Warn("traces not flushed", "err", err)
		}
	}()

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
	prov, err := provider.New(cfg.ProviderURL, provider.Options{
		Timeout: cfg.ProviderTimeout, Attempts: cfg.ProviderTries,
		BreakerFailures: uint32(cfg.BreakerFailures), BreakerOpenFor: cfg.BreakerOpenFor,
	})
	if err != nil {
		return err
	}

	registry := es.NewRegistry()
	payment.Register(registry)
	svc := app.New(store, registry, prov, log)
	lot := park.New(store, platform.Parking(store, rdb, cfg.RedisPrefix), park.Options{Log: log, OnPark: platform.CountParked()})
	runner, err := readmodel.New(store, rdb, registry, cfg.RedisPrefix, log, lot)
	if err != nil {
		return err
	}
	defer metrics.WatchProjection(runner)()
	reader := readmodel.NewReader(rdb, cfg.RedisPrefix)

	// Each runs until the service stops, started again after a failure (a
	// Redis or store hiccup must not stop it for good); the projection and
	// the participant go on from their checkpoints.
	projCheck, stopProj := platform.Supervise("payments-projection", "payments projection", runner.Run, log)
	sagaCheck, stopSaga := platform.Supervise("saga-participant", "saga participant", sagaParticipant(store, rdb, svc, lot, cfg, log), log)
	_, stopReconciler := platform.Supervise("reconciler", "reconciler", func(ctx context.Context) error {
		return svc.RunReconciler(ctx, reader, cfg.ReconcileEvery)
	}, log)

	e := httpapi.New(httpapi.Deps{
		App: svc, Reader: reader, Waiter: runner, Breaker: prov.Breaker, Secret: []byte(cfg.IdentitySecret), Log: log,
		Checks: []web.Check{
			{Name: "event-store", Run: func(ctx context.Context) error { _, err := store.Head(ctx); return err }},
			{Name: "redis", Run: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }},
			projCheck,
			{Name: "payment-provider", Run: prov.Ping},
			sagaCheck,
		},
	})
	parkapi.Mount(e, lot, web.RequireIdentity([]byte(cfg.IdentitySecret)), web.RequireRole(web.RoleAdmin))
	e.GET("/admin/projections", echo.WrapHandler(metrics.ProjectionsHandler()), web.RequireIdentity([]byte(cfg.IdentitySecret)), web.RequireRole(web.RoleAdmin))
	err = web.Serve(ctx, e, cfg.HTTPAddr, func(a net.Addr) { log.Info("listening", "addr", a.String()) })
	stopReconciler()
	stopSaga()
	stopProj()
	runner.Close()
	log.Info("stopped")
	return err
}
