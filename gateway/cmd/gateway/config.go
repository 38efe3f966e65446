package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ordo-platform/ordo/gateway/internal/auth"
	"github.com/ordo-platform/ordo/pkg/config"
)

// Development defaults. Production mode refuses to start with any of them.
const (
	devIdentitySecret = "ordo-dev-identity-secret" //nolint:gosec // G101: the public development default, which check refuses in production
	devJWTKey         = "ordo-dev-jwt-key-change-me-in-production"
	minSecretLen      = 32
)

type settings struct {
	HTTPAddr, RedisURL, RedisPrefix, LogLevel, LogFormat  string
	Production                                            bool
	IdentitySecret, JWTKey, Users                         string
	TokenTTL                                              time.Duration
	OrderURL, InventoryURL, PaymentURL, NotifyURL, SimURL string

	RateLimits, Breakers bool
	UserRate, AddrRate   float64
	UserBurst, AddrBurst int

	ReadTimeout, WriteTimeout, OrderViewTimeout, AdminTimeout, RedisTimeout time.Duration
	Retries                                                                 int
	BreakerFailures                                                         int
	BreakerOpenFor                                                          time.Duration
	IdempotencyRetention, IdempotencyLock, CacheTTL                         time.Duration
	BodyLimit                                                               string
	HeaderLimit                                                             int
	TrustProxy                                                              bool
}

func load(args []string, getenv func(string) string, out io.Writer) (settings, *config.Loader, error) {
	var s settings
	l := config.New("gateway", "ORDO_GATEWAY_", getenv)
	l.SetOutput(out)
	l.String(&s.HTTPAddr, "http-addr", "127.0.0.1:8080", "listen address")
	l.String(&s.RedisURL, "redis-url", "redis://127.0.0.1:6379/0", "Redis for rate limits, idempotency keys and the order view cache")
	l.String(&s.RedisPrefix, "redis-prefix", "ordo:gateway:", "prefix of every Redis key the gateway writes")
	l.String(&s.LogLevel, "log-level", "info", "debug, info, warn or error")
	l.String(&s.LogFormat, "log-format", "text", "text or json")
	l.Bool(&s.Production, "production", false, "refuse demo users, default secrets and short keys")
	l.Secret(&s.IdentitySecret, "identity-secret", devIdentitySecret, "HMAC key of the Ordo-Identity header the services verify")
	l.Secret(&s.JWTKey, "jwt-key", devJWTKey, "HS256 key of access tokens")
	l.Secret(&s.Users, "users", auth.DemoUsers, "users as name:role:bcrypt-hash,... (default: the demo users alice, bob, admin)")
	l.Duration(&s.TokenTTL, "token-ttl", time.Hour, "lifetime of an access token")
	l.String(&s.OrderURL, "order-url", "http://127.0.0.1:8081", "order service")
	l.String(&s.InventoryURL, "inventory-url", "http://127.0.0.1:8082", "inventory service")
	l.String(&s.PaymentURL, "payment-url", "http://127.0.0.1:8083", "payment service")
	l.String(&s.NotifyURL, "notify-url", "http://127.0.0.1:8084", "notify service")
	l.String(&s.SimURL, "provider-sim-url", "http://127.0.0.1:8090", "payment provider simulator (admin faults)")
	l.Bool(&s.RateLimits, "rate-limits", true, "enforce the per-user and per-address rate limits (false only to benchmark the limiter's cost)")
	l.Bool(&s.Breakers, "breakers", true, "put a circuit breaker in front of each backend (false only to benchmark the breakers' cost)")
	l.Float(&s.UserRate, "user-rate", 20, "requests per second per user")
	l.Int(&s.UserBurst, "user-burst", 40, "burst per user")
	l.Float(&s.AddrRate, "addr-rate", 50, "requests per second per client address")
	l.Int(&s.AddrBurst, "addr-burst", 100, "burst per client address")
	l.Duration(&s.ReadTimeout, "read-timeout", 3*time.Second, "deadline of proxied reads")
	l.Duration(&s.WriteTimeout, "write-timeout", 5*time.Second, "deadline of proxied writes")
	l.Duration(&s.OrderViewTimeout, "order-view-timeout", 3*time.Second, "deadline of the aggregated order view")
	l.Duration(&s.AdminTimeout, "admin-timeout", 2*time.Second, "deadline of the admin status probes")
	l.Duration(&s.RedisTimeout, "redis-timeout", time.Second, "deadline of one rate-limit or idempotency call (a loaded two-core machine can take hundreds of ms)")
	l.Int(&s.Retries, "retries", 1, "extra tries of a failed backend GET")
	l.Int(&s.BreakerFailures, "breaker-failures", 5, "consecutive failures that open a backend's breaker")
	l.Duration(&s.BreakerOpenFor, "breaker-open-for", 5*time.Second, "how long a breaker stays open before a probe")
	l.Duration(&s.IdempotencyRetention, "idempotency-retention", 24*time.Hour, "how long an Idempotency-Key's answer is replayed")
	l.Duration(&s.IdempotencyLock, "idempotency-lock", 30*time.Second, "how long an in-flight Idempotency-Key blocks duplicates at most")
	l.Duration(&s.CacheTTL, "cache-ttl", 24*time.Hour, "how long the last good payment/notifications are kept for degraded reads")
	l.String(&s.BodyLimit, "body-limit", "16K", "request body limit (413 above)")
	l.Int(&s.HeaderLimit, "header-limit", 16<<10, "request header limit in bytes (431 above)")
	l.Bool(&s.TrustProxy, "trust-proxy", false, "take the client address from X-Forwarded-For")
	if err := l.Parse(args); err != nil {
		return s, l, err
	}
	return s, l, s.check()
}

// check refuses settings that cannot work, and in production the
// development defaults.
func (s settings) check() error {
	if s.IdempotencyLock < s.WriteTimeout {
		return fmt.Errorf("idempotency-lock %s must be at least write-timeout %s", s.IdempotencyLock, s.WriteTimeout)
	}
	if !s.Production {
		return nil
	}
	var errs []error
	if !s.RateLimits || !s.Breakers {
		errs = append(errs, errors.New("production: rate-limits and breakers must stay on"))
	}
	if s.IdentitySecret == devIdentitySecret || len(s.IdentitySecret) < minSecretLen {
		errs = append(errs, fmt.Errorf("production: set identity-secret to a random value of at least %d bytes", minSecretLen))
	}
	if s.JWTKey == devJWTKey || len(s.JWTKey) < minSecretLen {
		errs = append(errs, fmt.Errorf("production: set jwt-key to a random value of at least %d bytes", minSecretLen))
	}
	if s.Users == auth.DemoUsers {
		errs = append(errs, errors.New("production: set users; the demo users are for development only"))
	} else if u, err := auth.ParseUsers(s.Users); err == nil && u.UsesDemoPassword() {
		errs = append(errs, errors.New("production: a user still has the demo password"))
	}
	return errors.Join(errs...)
}
