package main

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/park"
	"github.com/ordo-platform/ordo/pkg/platform"
	"github.com/ordo-platform/ordo/pkg/web"
	"github.com/ordo-platform/ordo/services/inventory/internal/app"
	"github.com/ordo-platform/ordo/services/inventory/internal/participant"
)

// startParticipant runs inventory's part of the fulfilment saga in the
// background, restarting it from its checkpoint after a failure. The
// returned func stops it and waits; the check reports whether it runs.
func startParticipant(store es.Store, rdb *redis.Client, svc *app.Service, lot *park.Lot, cfg Config, log *slog.Logger) (web.Check, func()) {
	p := participant.New(store, svc, participant.Options{
		Checkpoints: platform.Checkpoints(store, rdb, cfg.RedisPrefix), TTL: cfg.ReservationTTL, Log: log,
		Park: lot, Reject: skus(cfg.RejectSKUs),
	})
	var running atomic.Bool
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		backoff := 100 * time.Millisecond
		for ctx.Err() == nil {
			running.Store(true)
			err := p.Run(ctx)
			running.Store(false)
			if ctx.Err() != nil {
				return
			}
			log.Error("saga participant stopped; restarting from its checkpoint", "err", err, "in", backoff)
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 5*time.Second)
		}
	})
	check := web.Check{Name: "saga-participant", Run: func(context.Context) error {
		if !running.Load() {
			return errors.New("saga participant is not running; restarting after an error")
		}
		return nil
	}}
	return check, func() { cancel(); wg.Wait() }
}

// skus splits a comma-separated list, dropping blanks.
func skus(list string) []string {
	var out []string
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
