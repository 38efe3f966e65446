package integration

import (
	"bytes"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/ordo-platform/ordo/launcher"
	"github.com/ordo-platform/ordo/pkg/testenv"
)

// env is one platform for the whole test binary: starting it (building six
// binaries, migrating a database) costs far more than any scenario.
type env struct {
	p                  *launcher.Platform
	api                *api
	alice, bob, admin  string // access tokens from the real login
	orderSKU, stockSKU string // one product for orders, another for restocks
}

// gatewayEnv is what the gateway child gets on top of the launcher's table
// (children inherit the environment; the table wins only for its own keys).
var gatewayEnv = map[string]string{
	// 100 concurrent POSTs by one user must meet the idempotency store,
	// not the rate limiter; limits have their own tests in internal/httpapi.
	"ORDO_GATEWAY_USER_RATE": "100000", "ORDO_GATEWAY_USER_BURST": "100000",
	"ORDO_GATEWAY_ADDR_RATE": "100000", "ORDO_GATEWAY_ADDR_BURST": "100000",
	// A short open period keeps the kill/restart scenario quick.
	"ORDO_GATEWAY_BREAKER_OPEN_FOR": "1s",
}

// TestGatewayAgainstRealServices starts the real platform once and runs
// every scenario against it, the destructive one (killing payment) last.
func TestGatewayAgainstRealServices(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts every binary of the platform")
	}
	e := startPlatform(t)
	t.Run("login", e.testLogin)
	t.Run("catalog", e.testCatalog)
	t.Run("place and read back", e.testPlaceAndRead)
	t.Run("100 concurrent identical POSTs make one order", e.testConcurrentPlace)
	t.Run("same key, other body", e.testSameKeyOtherBody)
	t.Run("forged tokens", e.testForgedTokens)
	t.Run("client Ordo-Identity cannot impersonate", e.testIdentityHeader)
	t.Run("another customer's order", e.testOtherCustomer)
	t.Run("admin restock", e.testRestock)
	t.Run("admin status", e.testStatus)
	t.Run("timeline", e.testTimeline)
	t.Run("payment killed and restarted", e.testPaymentDown)
	select {
	case ex := <-e.p.Failed():
		t.Errorf("a child exited unexpectedly: %v", ex)
	default:
	}
}

func startPlatform(t *testing.T) *env {
	t.Helper()
	for k, v := range gatewayEnv {
		t.Setenv(k, v)
	}
	_, prefix := testenv.Redis(t)
	smtp, mailAPI := testenv.Mailpit(t)
	cfg := launcher.Config{
		BinDir: t.TempDir(), DatabaseURL: testenv.Database(t), RedisPrefix: prefix,
		MailpitSMTP: smtp, MailpitAPI: mailAPI, LogLevel: "warn",
		ReadyTimeout: 2 * time.Minute, StopTimeout: 10 * time.Second,
	}
	p, out := startOnFreePorts(t, cfg)
	t.Cleanup(func() {
		if err := p.Stop(t.Context()); err != nil {
			t.Errorf("stop: %v", err)
		}
		if t.Failed() {
			t.Logf("platform output:\n%s", out)
		}
	})
	for name, why := range p.Skipped {
		t.Fatalf("%s was not started: %s", name, why)
	}
	e := &env{p: p, api: &api{base: p.GatewayURL, client: &http.Client{Timeout: 15 * time.Second}}}
	e.alice, e.bob, e.admin = e.api.login(t, "alice"), e.api.login(t, "bob"), e.api.login(t, "admin")
	e.pickSKUs(t)
	return e
}

// startOnFreePorts starts the platform, again on other ports when a child
// could not bind its own: a "free" port can be taken by another process
// (another test's platform) before the child binds it, and then the
// launcher's readiness check may be answered by that stranger.
func startOnFreePorts(t *testing.T, cfg launcher.Config) (*launcher.Platform, *syncBuffer) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		ports, err := launcher.FreePorts()
		if err != nil {
			t.Fatal(err)
		}
		out := &syncBuffer{}
		cfg.Ports, cfg.Output = ports, out
		p, err := launcher.Start(t.Context(), cfg)
		if err != nil {
			t.Fatalf("start the platform: %v\noutput:\n%s", err, out)
		}
		time.Sleep(500 * time.Millisecond) // a child that cannot bind exits at once
		select {
		case ex := <-p.Failed():
			_ = p.Stop(t.Context())
			if attempt == 3 {
				t.Fatalf("the platform did not start cleanly in %d attempts: %v", attempt, ex)
			}
			t.Logf("attempt %d: %v; again on other ports", attempt, ex)
			continue
		default:
		}
		return p, out
	}
}

// syncBuffer collects the children's output while they write.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
