package devinfra

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// These tests start real servers from the binaries on this machine. They
// fail, never skip, when that is impossible: `make test` relies on it.

func TestEnsureStartsStopsAndReusesPrivateServers(t *testing.T) {
	ctx := t.Context()
	cfg := privateConfig(t)

	env := ensure(t, cfg)
	if !env.Started() {
		t.Fatal("Ensure found servers on fresh ports instead of starting them")
	}
	execSQL(t, env.DatabaseURL, "CREATE TABLE kept (id int)")
	pingRedis(t, env.RedisURL)

	again := ensure(t, cfg)
	if again.Started() {
		t.Error("a second Ensure started servers although the first ones answer")
	}

	if err := env.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	assertDown(t, cfg)

	restarted := ensure(t, cfg)
	execSQL(t, restarted.DatabaseURL, "SELECT * FROM kept") // data survived the restart
	if err := Reset(ctx, cfg.StateDir, cfg.Log); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	assertDown(t, cfg)
	if _, err := os.Stat(filepath.Join(cfg.StateDir, "postgres")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Reset left the postgres data: %v", err)
	}
}

func TestEnsureRefusesForeignListener(t *testing.T) {
	lis, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lis.Close() })
	go func() { // a listener that is not PostgreSQL: accept and hang up
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	cfg := privateConfig(t)
	cfg.DatabaseURL = fmt.Sprintf("postgres://postgres@%s/postgres?sslmode=disable", lis.Addr())
	_, err = Ensure(t.Context(), cfg)
	if err == nil || !strings.Contains(err.Error(), "a server listens at") {
		t.Fatalf("Ensure = %v, want an error about the listener", err)
	}
	if _, err := os.Stat(filepath.Join(cfg.StateDir, "postgres")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Ensure prepared a private server although something listens: %v", err)
	}
}

func TestStopPrivateWithNothingRunning(t *testing.T) {
	if err := StopPrivate(t.Context(), t.TempDir(), nil); err != nil {
		t.Errorf("StopPrivate on an empty state dir: %v", err)
	}
}

// privateConfig points at free loopback ports and a state dir that the
// postgres user can reach (t.TempDir is private to root by default).
func privateConfig(t *testing.T) Config {
	t.Helper()
	state := t.TempDir()
	for _, dir := range []string{filepath.Dir(state), state} {
		if err := os.Chmod(dir, 0o755); err != nil { //nolint:gosec // the server user must enter it
			t.Fatal(err)
		}
	}
	return Config{
		DatabaseURL: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/ordo_it?sslmode=disable", freePort(t)),
		RedisURL:    fmt.Sprintf("redis://127.0.0.1:%d/0", freePort(t)),
		StateDir:    state,
		Log:         slog.New(slog.NewTextHandler(testWriter{t}, nil)),
		Output:      testWriter{t},
		Timeout:     60 * time.Second,
	}
}

// ensure calls Ensure and stops whatever it started when the test ends,
// even if the test fails half-way.
func ensure(t *testing.T, cfg Config) *Env {
	t.Helper()
	env, err := Ensure(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	t.Cleanup(func() {
		if err := env.Stop(context.Background()); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return env
}

func assertDown(t *testing.T, cfg Config) {
	t.Helper()
	pg, err := parsePostgresURL(cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := parseRedisURL(cfg.RedisURL)
	if err != nil {
		t.Fatal(err)
	}
	for _, ep := range []endpoint{pg, rd} {
		if err := dialable(t.Context(), ep); !errors.Is(err, errNoAnswer) {
			t.Errorf("%s still answers after stop (%v)", ep.addr(), err)
		}
	}
}

func execSQL(t *testing.T, url, sql string) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	if _, err := conn.Exec(t.Context(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func pingRedis(t *testing.T, url string) {
	t.Helper()
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opts)
	defer func() { _ = c.Close() }()
	if err := c.Ping(t.Context()).Err(); err != nil {
		t.Fatalf("PING %s: %v", url, err)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	lis, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = lis.Close() }()
	return lis.Addr().(*net.TCPAddr).Port
}

// testWriter sends server progress and install output to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

var _ io.Writer = testWriter{}
