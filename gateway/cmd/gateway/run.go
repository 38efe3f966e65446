package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ordo-platform/ordo/gateway/internal/auth"
	"github.com/ordo-platform/ordo/gateway/internal/httpapi"
	"github.com/ordo-platform/ordo/gateway/internal/idempotency"
	"github.com/ordo-platform/ordo/gateway/internal/ratelimit"
	"github.com/ordo-platform/ordo/gateway/internal/upstream"
	"github.com/ordo-platform/ordo/pkg/config"
	"github.com/ordo-platform/ordo/pkg/tracing"
	"github.com/ordo-platform/ordo/pkg/web"
)

// run starts the gateway and serves until ctx ends. onListen, if not nil,
// gets the bound address (tests listen on :0).
func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer, onListen func(net.Addr)) error {
	s, l, err := load(args, getenv, out)
	if err != nil {
		return err
	}
	log, err := config.NewLogger(out, s.LogLevel, s.LogFormat)
	if err != nil {
		return err
	}
	log.Info("config", "settings", l)
	stopTracing, err := tracing.Setup(ctx, "gateway")
	if err != nil {
		return err
	}
	defer func() {
		if err := stopTracing(context.WithoutCancel(ctx)); err != nil {
			log.Warn("traces not flushed", "err", err)
		}
	}()
	users, err := auth.ParseUsers(s.Users)
	if err != nil {
		return fmt.Errorf("users: %w", err)
	}
	rdb, err := openRedis(s.RedisURL, s.RedisTimeout)
	if err != nil {
		return err
	}
	defer func() { _ = rdb.Close() }()
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	if err := rdb.Ping(pctx).Err(); err != nil {
		// Not fatal: reads fail open and writes fail closed until Redis is back.
		log.Warn("redis is not reachable at start", "err", err)
	}
	cancel()
	cfg, err := httpConfig(s, log, users, rdb)
	if err != nil {
		return err
	}
	e := httpapi.New(cfg)
	return web.Serve(ctx, e, s.HTTPAddr, func(a net.Addr) {
		log.Info("gateway listening", "addr", a.String(), "api", "http://"+a.String()+"/api/v1")
		if onListen != nil {
			onListen(a)
		}
	})
}

func httpConfig(s settings, log *slog.Logger, users *auth.Users, rdb *redis.Client) (httpapi.Config, error) {
	userLimit := ratelimit.Policy{Name: "user", Rate: s.UserRate, Burst: s.UserBurst}
	addrLimit := ratelimit.Policy{Name: "addr", Rate: s.AddrRate, Burst: s.AddrBurst}
	for _, p := range []ratelimit.Policy{userLimit, addrLimit} {
		if err := p.Validate(); err != nil {
			return httpapi.Config{}, err
		}
	}
	be, err := backends(s)
	if err != nil {
		return httpapi.Config{}, err
	}
	var limiter *ratelimit.Limiter // nil: no limits (--rate-limits=false)
	if s.RateLimits {
		limiter = ratelimit.New(rdb, s.RedisPrefix+"rl:")
	} else {
		log.Warn("rate limits are OFF (--rate-limits=false): for benchmarks only")
	}
	if !s.Breakers {
		log.Warn("circuit breakers are OFF (--breakers=false): for benchmarks only")
	}
	return httpapi.Config{
		Log: log, Users: users, Tokens: auth.NewTokens([]byte(s.JWTKey), s.TokenTTL), Redis: rdb,
		Limiter:   limiter,
		UserLimit: userLimit, AddrLimit: addrLimit,
		Idempotency: idempotency.NewStore(rdb, s.RedisPrefix+"idem:", s.IdempotencyLock, s.IdempotencyRetention),
		Backends:    be,
		Timeouts: httpapi.Timeouts{Read: s.ReadTimeout, Write: s.WriteTimeout, OrderView: s.OrderViewTimeout,
			Admin: s.AdminTimeout, Redis: s.RedisTimeout},
		Cache:     httpapi.NewCache(rdb, s.RedisPrefix+"cache:", s.CacheTTL, s.RedisTimeout),
		BodyLimit: s.BodyLimit, HeaderLimit: s.HeaderLimit, TrustProxy: s.TrustProxy,
	}, nil
}

func backends(s settings) (httpapi.Backends, error) {
	var be httpapi.Backends
	failures := max(s.BreakerFailures, 1)
	if int64(failures) > math.MaxUint32 {
		return be, fmt.Errorf("breaker-failures %d is too large", s.BreakerFailures)
	}
	for _, b := range []struct {
		dst       **upstream.Client
		name, url string
	}{
		{&be.Order, "order", s.OrderURL}, {&be.Inventory, "inventory", s.InventoryURL},
		{&be.Payment, "payment", s.PaymentURL}, {&be.Notify, "notify", s.NotifyURL},
		{&be.Simulator, "provider-sim", s.SimURL},
	} {
		c, err := upstream.New(upstream.Options{Name: b.name, BaseURL: b.url, Secret: []byte(s.IdentitySecret),
			Timeout: s.ReadTimeout, Retries: s.Retries,
			Breaker: upstream.BreakerOptions{Failures: uint32(failures), OpenFor: s.BreakerOpenFor,
				Disabled: !s.Breakers}})
		if err != nil {
			return be, err
		}
		*b.dst = c
	}
	return be, nil
}

func openRedis(url string, timeout time.Duration) (*redis.Client, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis-url: %w", err)
	}
	// Short timeouts: a Redis outage must cost a request milliseconds, not seconds.
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout, opts.PoolTimeout = timeout*4, timeout, timeout, timeout
	opts.MaxRetries = 0
	return redis.NewClient(opts), nil
}
