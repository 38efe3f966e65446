package launcher

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ordo-platform/ordo/pkg/devinfra"
	"github.com/ordo-platform/ordo/pkg/platform"
)

// loopback is the only address the platform listens on.
const loopback = "127.0.0.1"

// Ports are the loopback ports of every listener of the platform.
type Ports struct {
	Gateway, Order, Inventory, Payment, Notify, Provider int
	MailpitSMTP, MailpitUI                               int
}

// DefaultPorts are the ports `make run` uses and API.md documents.
func DefaultPorts() Ports {
	return Ports{Gateway: 8080, Order: 8081, Inventory: 8082, Payment: 8083, Notify: 8084,
		Provider: 8090, MailpitSMTP: 1025, MailpitUI: 8025}
}

// BasePorts numbers the ports from base: gateway base, order base+1,
// inventory +2, payment +3, notify +4, provider +10, Mailpit SMTP +20 and
// UI +21, the same shape as the defaults (base 8080) minus Mailpit's.
func BasePorts(base int) Ports {
	return Ports{Gateway: base, Order: base + 1, Inventory: base + 2, Payment: base + 3, Notify: base + 4,
		Provider: base + 10, MailpitSMTP: base + 20, MailpitUI: base + 21}
}

// FreePorts asks the kernel for eight ports that are free now. Another
// process may take one before the child binds it; tests accept that small
// race as every "start on free ports" harness does.
func FreePorts() (Ports, error) {
	var got [8]int
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			_ = ln.Close()
		}
	}()
	for i := range got {
		ln, err := listenBelowEphemeral()
		if err != nil {
			return Ports{}, fmt.Errorf("find a free port: %w", err)
		}
		lns = append(lns, ln) // held open until all are chosen, so none repeats
		got[i] = ln.Addr().(*net.TCPAddr).Port
	}
	return Ports{Gateway: got[0], Order: got[1], Inventory: got[2], Payment: got[3], Notify: got[4],
		Provider: got[5], MailpitSMTP: got[6], MailpitUI: got[7]}, nil
}

// Free ports are drawn from [freeLow, freeHigh), below the kernel's
// ephemeral range (32768 and up on Linux): a port picked there and released
// cannot be handed to someone else's ":0" listener (a test's Mailpit, say)
// before our child binds it.
const (
	freeLow  = 20000
	freeHigh = 32000
)

func listenBelowEphemeral() (net.Listener, error) {
	var lastErr error
	for range 200 {
		port := freeLow + rand.IntN(freeHigh-freeLow) //nolint:gosec // a port number, not a secret
		ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", net.JoinHostPort(loopback, strconv.Itoa(port)))
		if err == nil {
			return ln, nil
		}
		lastErr = err
	}
	return nil, fmt.Errorf("no free port between %d and %d: %w", freeLow, freeHigh, lastErr)
}

// ParsePorts reads the -ports option: "default", "free", or a base port.
func ParsePorts(s string) (Ports, error) {
	switch s {
	case "", "default":
		return DefaultPorts(), nil
	case "free":
		return FreePorts()
	}
	base, err := strconv.Atoi(s)
	if err != nil || base < 1024 || base > 65535-21 {
		return Ports{}, fmt.Errorf("ports %q: want default, free, or a base port between 1024 and %d", s, 65535-21)
	}
	return BasePorts(base), nil
}

// Config says how to start the platform. The zero value, with Output set,
// is `make run`: default ports, the ordo database, Redis prefix "ordo:".
type Config struct {
	Root        string // repository root (holds go.work); found upwards from the working directory when empty
	BinDir      string // where binaries are built; <Root>/bin when empty
	NoBuild     bool   // use the binaries already in BinDir
	SkipBroken  bool   // a binary that fails to build is skipped like a missing one, instead of failing Start
	Ports       Ports  // DefaultPorts() when zero
	DatabaseURL string // PostgreSQL URL whose database the services share; platform.DefaultDatabaseURL (database ordo) when empty
	RedisURL    string // platform.DefaultRedisURL when empty
	RedisPrefix string // every service gets <prefix><name>:; "ordo:" when empty
	StateDir    string // private servers' data; devinfra.DefaultStateDir() when empty
	// MailpitSMTP and MailpitAPI name a Mailpit to use; when empty one is
	// found or started at 127.0.0.1:Ports.MailpitSMTP / MailpitUI.
	MailpitSMTP, MailpitAPI string
	IdentitySecret          string        // shared by gateway and services; "ordo-dev-identity-secret" when empty
	LogLevel                string        // passed to every child; "info" when empty
	Reset                   bool          // drop the database and delete the prefix's Redis keys before starting
	Restart                 bool          // restart a child that exits unexpectedly instead of failing
	ReadyTimeout            time.Duration // how long children may take to answer /readyz; 90s when zero
	StopTimeout             time.Duration // SIGTERM grace per child before SIGKILL; 10s when zero
	Output                  io.Writer     // children's prefixed log lines; os.Stdout when nil
	Color                   bool          // colour the prefixes
	Log                     *slog.Logger  // the launcher's own progress lines; to Output when nil
	// Via, field by field, gives the children another address for a
	// dependency than the real one: a test puts a fault-injecting proxy
	// there. Empty fields mean the real address.
	Via Via
}

// Via is what the children are told instead of the real addresses of the
// servers under them. The launcher itself still ensures, resets and reports
// (in Platform) the real servers; only the children's environment changes.
type Via struct {
	DatabaseURL string // every service's event store URL
	RedisURL    string // every child's Redis URL, the gateway's included
	ProviderURL string // payment's provider base URL; the gateway's admin faults still go to the simulator directly
	SMTPAddr    string // the host:port notify sends mail to; its Mailpit API stays direct
}

// withDefaults fills in every empty field.
func (c Config) withDefaults() (Config, error) {
	if c.Root == "" {
		root, err := FindRoot()
		if err != nil {
			return c, err
		}
		c.Root = root
	}
	c.BinDir = orDefault(c.BinDir, filepath.Join(c.Root, "bin"))
	if c.Ports == (Ports{}) {
		c.Ports = DefaultPorts()
	}
	c.DatabaseURL = orDefault(c.DatabaseURL, platform.DefaultDatabaseURL)
	c.RedisURL = orDefault(c.RedisURL, platform.DefaultRedisURL)
	c.RedisPrefix = orDefault(c.RedisPrefix, "ordo:")
	c.IdentitySecret = orDefault(c.IdentitySecret, "ordo-dev-identity-secret")
	c.LogLevel = orDefault(c.LogLevel, "info")
	if c.StateDir == "" {
		dir, err := devinfra.DefaultStateDir()
		if err != nil {
			return c, err
		}
		c.StateDir = dir
	}
	c.MailpitSMTP = orDefault(c.MailpitSMTP, net.JoinHostPort(loopback, strconv.Itoa(c.Ports.MailpitSMTP)))
	c.MailpitAPI = orDefault(c.MailpitAPI, "http://"+net.JoinHostPort(loopback, strconv.Itoa(c.Ports.MailpitUI)))
	if c.ReadyTimeout == 0 {
		c.ReadyTimeout = 90 * time.Second
	}
	if c.StopTimeout == 0 {
		c.StopTimeout = 10 * time.Second
	}
	if c.Output == nil {
		c.Output = os.Stdout
	}
	return c, c.validate()
}

// validate refuses a database URL without a database name: the launcher
// creates and may drop it, and must never drop "postgres".
func (c Config) validate() error {
	u, err := url.Parse(c.DatabaseURL)
	if err != nil {
		return fmt.Errorf("database URL: %w", err)
	}
	if db := strings.TrimPrefix(u.Path, "/"); db == "" || db == "postgres" {
		return fmt.Errorf("database URL %s: name the platform's own database (like /ordo), not %q", u.Redacted(), db)
	}
	if !strings.HasSuffix(c.RedisPrefix, ":") {
		return fmt.Errorf("redis prefix %q: must end with ':'", c.RedisPrefix)
	}
	return nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// FindRoot is the nearest directory above the working directory that holds
// go.work: the repository root the binaries are built from.
func FindRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find repository root: no go.work above the working directory; run from the ordo checkout")
		}
		dir = parent
	}
}
