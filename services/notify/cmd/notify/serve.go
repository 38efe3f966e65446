package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
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

	"github.com/ordo-platform/ordo/services/notify/internal/app"
	"github.com/ordo-platform/ordo/services/notify/internal/httpapi"
	"github.com/ordo-platform/ordo/services/notify/internal/mailpit"
	"github.com/ordo-platform/ordo/services/notify/internal/readmodel"
)

// serve opens the clients and runs the feed projection, the trigger
// subscription with its delivery worker, and the HTTP API until ctx ends.
// Deferred steps run in reverse: HTTP has stopped when serve's last line
// returns, then the subscription and the projection stop, then Redis and
// the store close.
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

	lot := park.New(store, platform.Parking(store, rdb, cfg.RedisPrefix), park.Options{Log: log, OnPark: platform.CountParked()})
	proj, err := projection.New(store, rdb, readmodel.Projection(), projection.Options{Prefix: cfg.RedisPrefix, Log: log, Park: lot})
	if err != nil {
		return err
	}
	defer metrics.WatchProjection(proj)()
	feed := readmodel.NewFeed(rdb, cfg.RedisPrefix)
	svc := app.New(store, rdb, app.SMTP{Addr: cfg.SMTPAddr, Timeout: cfg.SMTPTimeout}, mailbox(cfg), app.Options{
		MailDomain: cfg.MailDomain, From: cfg.MailFrom, Prefix: cfg.RedisPrefix, Log: log,
		BreakerFailures: uint32(cfg.BreakerFailures), BreakerCooldown: cfg.BreakerCooldown, //nolint:gosec // checked >= 1
		RetryInterval: cfg.RetryInterval, MaxBackoff: cfg.MaxBackoff, LeaseTTL: max(time.Minute, 3*cfg.SMTPTimeout),
	})
	runner := app.NewRunner(svc, platform.Checkpoints(store, rdb, cfg.RedisPrefix), feed)
	runner.Park = lot
	projectionCheck, stopProjection := platform.Supervise("projection", "feed projection", proj.Run, log)
	stop := start(runner.Run)
	defer func() { stop(); stopProjection(); proj.Close() }()

	e := httpapi.New(httpapi.Deps{
		Feed: feed, Waiter: proj, Breaker: svc, Secret: []byte(cfg.IdentitySecret),
		Options: web.Options{BodyLimit: "16K", Log: log},
		Checks:  checks(store, rdb, cfg.SMTPAddr, projectionCheck, runner),
	})
	parkapi.Mount(e, lot, web.RequireIdentity([]byte(cfg.IdentitySecret)), web.RequireRole(web.RoleAdmin))
	e.GET("/admin/projections", echo.WrapHandler(metrics.ProjectionsHandler()), web.RequireIdentity([]byte(cfg.IdentitySecret)), web.RequireRole(web.RoleAdmin))
	return web.Serve(ctx, e, cfg.HTTPAddr, func(a net.Addr) { log.Info("listening", "addr", a.String()) })
}

// mailbox is Mailpit's API when configured: with it, a crash between SMTP
// acceptance and notification.sent does not resend.
func mailbox(cfg Config) app.Mailbox {
	if cfg.MailpitAPI == "" || cfg.MailpitAPI == "none" {
		return nil
	}
	return mailpit.New(cfg.MailpitAPI)
}

// start runs each func in the background until the returned stop is
// called; stop waits for them.
func start(runs ...func(context.Context)) func() {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, r := range runs {
		wg.Go(func() { r(ctx) })
	}
	return func() { cancel(); wg.Wait() }
}

func checks(store es.Store, rdb *redis.Client, smtpAddr string, projection web.Check, runner *app.Runner) []web.Check {
	return []web.Check{
		{Name: "event-store", Run: func(ctx context.Context) error { _, err := store.Head(ctx); return err }},
		{Name: "redis", Run: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }},
		{Name: "smtp", Run: func(ctx context.Context) error { return app.Reachable(ctx, smtpAddr) }},
		projection,
		{Name: "subscription", Run: func(context.Context) error { return running(runner.Subscribed(), "trigger subscription") }},
	}
}

func running(ok bool, what string) error {
	if !ok {
		return errors.New(what + " is not running")
	}
	return nil
}
