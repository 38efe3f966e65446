package testenv

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/ordo-platform/ordo/pkg/devinfra"
)

func TestDatabaseIsFreshAndDroppedAfterTest(t *testing.T) {
	var name string
	t.Run("user", func(t *testing.T) {
		url := Database(t)
		conn := connect(t, url)
		if err := conn.QueryRow(t.Context(), "SELECT current_database()").Scan(&name); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(name, "ordo_t_") {
			t.Errorf("database %q lacks the ordo_t_ prefix", name)
		}
		if _, err := conn.Exec(t.Context(), "CREATE TABLE t (id int)"); err != nil {
			t.Fatal(err)
		}
		// conn stays open on purpose: the drop must force it closed.
	})
	admin := connect(t, envOr("ORDO_DATABASE_URL", devinfra.DefaultDatabaseURL))
	var exists bool
	err := admin.QueryRow(t.Context(), "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists)
	if err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Errorf("database %s still exists after its test ended", name)
	}
}

func TestDatabasesDiffer(t *testing.T) {
	if a, b := Database(t), Database(t); a == b {
		t.Errorf("two calls returned the same database %s", a)
	}
}

func TestRedisKeysRemovedAfterTest(t *testing.T) {
	var (
		c      *redis.Client
		prefix string
	)
	t.Run("user", func(t *testing.T) {
		c, prefix = Redis(t)
		if !strings.HasPrefix(prefix, "ordo:t:") || !strings.HasSuffix(prefix, ":") {
			t.Errorf("prefix %q, want ordo:t:<hex>:", prefix)
		}
		for i := range 2500 { // more than one SCAN/UNLINK batch
			if err := c.Set(t.Context(), fmt.Sprintf("%sk%d", prefix, i), i, 0).Err(); err != nil {
				t.Fatal(err)
			}
		}
	})
	if err := c.Ping(t.Context()).Err(); err == nil {
		t.Error("client still open after its test ended")
	}
	check, _ := Redis(t)
	keys, err := check.Keys(t.Context(), prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 0 {
		t.Errorf("%d keys under %s survived their test", len(keys), prefix)
	}
}

func TestUnreachableServersFailWithAdvice(t *testing.T) {
	port := closedPort(t)
	t.Setenv("ORDO_DATABASE_URL", fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=2", port))
	t.Setenv("ORDO_REDIS_URL", fmt.Sprintf("redis://127.0.0.1:%d/0", port))
	for name, helper := range map[string]func(testing.TB){
		"Database": func(tb testing.TB) { Database(tb) },
		"Redis":    func(tb testing.TB) { Redis(tb) },
	} {
		t.Run(name, func(t *testing.T) {
			msg := fatalOf(helper)
			for _, want := range []string{"not reachable", "make test", "ordo-infra ensure"} {
				if !strings.Contains(msg, want) {
					t.Errorf("failure %q lacks %q", msg, want)
				}
			}
		})
	}
}

// fakeTB records a Fatalf. Methods it does not define panic through the nil
// embedded interface, so a helper that skipped would fail this test.
type fakeTB struct {
	testing.TB
	fatal string
}

func (f *fakeTB) Helper()        {}
func (f *fakeTB) Cleanup(func()) {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// fatalOf runs helper in its own goroutine, as testing does, and returns
// the message it failed with.
func fatalOf(helper func(testing.TB)) string {
	tb := &fakeTB{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		helper(tb)
	}()
	<-done
	return tb.fatal
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// closedPort is a loopback port on which nothing listens.
func closedPort(t *testing.T) int {
	t.Helper()
	lis, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := lis.Addr().(*net.TCPAddr).Port
	_ = lis.Close()
	return port
}
