package devinfra

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisInstance is a private Redis server started by Ensure.
type redisInstance struct {
	pidFile string
}

func (r *redisInstance) name() string { return "redis" }

func (r *redisInstance) stop(ctx context.Context) error {
	_, err := stopRedis(ctx, r.pidFile)
	return err
}

// redisLayout is where a private Redis keeps its files under the state dir.
type redisLayout struct {
	dir, pidFile, log string
}

func newRedisLayout(stateDir string) redisLayout {
	dir := filepath.Join(stateDir, "redis")
	return redisLayout{dir: dir, pidFile: filepath.Join(dir, "redis.pid"), log: filepath.Join(dir, "redis.log")}
}

// ensureRedis uses the server at cfg.RedisURL or starts a private one. It
// returns the started instance, or nil when the server was found running.
func ensureRedis(ctx context.Context, cfg Config, inst *installer) (instance, error) {
	ep, err := parseRedisURL(cfg.RedisURL)
	if err != nil {
		return nil, err
	}
	err = probeRedis(ctx, cfg.RedisURL, ep)
	switch {
	case err == nil:
		cfg.Log.Info("redis: found at " + ep.addr())
		return nil, nil
	case !errors.Is(err, errNoAnswer):
		return nil, err
	case !ep.loopback():
		return nil, remoteError("ORDO_REDIS_URL", cfg.RedisURL, err)
	}
	r, err := startRedis(ctx, cfg, ep, inst)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// probeRedis returns nil when the server answers PING, wraps errNoAnswer when
// nothing listens, and otherwise says why the listener cannot be used.
func probeRedis(ctx context.Context, rawURL string, ep endpoint) error {
	if err := dialable(ctx, ep); err != nil {
		return err
	}
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		return fmt.Errorf("parse %s: %w", redact(rawURL), err)
	}
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = probeTimeout, probeTimeout, probeTimeout
	opts.MaxRetries = -1
	c := redis.NewClient(opts)
	defer func() { _ = c.Close() }()
	if err := c.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("a server listens at %s but PING failed: %w", ep.addr(), err)
	}
	return nil
}

// startRedis starts a private, memory-only Redis for ep.
func startRedis(ctx context.Context, cfg Config, ep endpoint, inst *installer) (*redisInstance, error) {
	l := newRedisLayout(cfg.StateDir)
	if pid, err := readPID(l.pidFile); err == nil && alive(pid, "redis-server") {
		return nil, fmt.Errorf("a private redis (pid %d) already runs from %s but does not answer at %s; stop it with `go run ./pkg/cmd/ordo-infra stop`", pid, l.dir, ep.addr())
	}
	bin, err := redisBinary(ctx, ep, inst)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(l.dir, 0o755); err != nil { //nolint:gosec // a plain state dir
		return nil, fmt.Errorf("create %s: %w", l.dir, err)
	}
	_ = os.Remove(l.pidFile) // stale: its process is gone
	cfg.Log.Info(fmt.Sprintf("redis: starting private instance on %s (files in %s)", ep.addr(), l.dir))
	r := &redisInstance{pidFile: l.pidFile}
	if err := launchRedis(bin, l, ep); err != nil {
		return nil, errors.Join(err, r.stop(context.WithoutCancel(ctx)))
	}
	if err := waitRedis(ctx, cfg, l, ep); err != nil {
		return nil, errors.Join(err, r.stop(context.WithoutCancel(ctx)))
	}
	cfg.Log.Info("redis: ready at " + ep.addr())
	return r, nil
}

// redisBinary finds redis-server, installing it if allowed.
func redisBinary(ctx context.Context, ep endpoint, inst *installer) (string, error) {
	if p, err := exec.LookPath("redis-server"); err == nil {
		return p, nil
	}
	if err := inst.install(ctx, "Redis", ep.addr(), redisPackages); err != nil {
		return "", err
	}
	p, err := exec.LookPath("redis-server")
	if err != nil {
		return "", fmt.Errorf("redis-server not on PATH after install: %w", err)
	}
	return p, nil
}

// launchRedis starts redis-server as a daemon that keeps nothing on disk.
// The launcher returns at once; it is not tied to a context so that a signal
// cannot leave a daemon behind without the pid file that stops it.
func launchRedis(bin string, l redisLayout, ep endpoint) error {
	cmd := exec.Command(bin, //nolint:gosec,noctx // our own binary and arguments; see above
		"--port", strconv.Itoa(ep.port), "--bind", ep.listenAddr(),
		"--save", "", "--appendonly", "no", "--dir", l.dir,
		"--daemonize", "yes", "--pidfile", l.pidFile, "--logfile", l.log)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("start redis-server: %w: %s\n%s", err, out, logTail(l.log, 20))
	}
	return nil
}

// waitRedis polls until the daemon answers, dies, or the timeout passes.
func waitRedis(ctx context.Context, cfg Config, l redisLayout, ep endpoint) error {
	deadline := time.Now().Add(cfg.Timeout)
	for {
		err := probeRedis(ctx, cfg.RedisURL, ep)
		if err == nil {
			return nil
		}
		if pid, perr := readPID(l.pidFile); perr == nil && !alive(pid, "redis-server") {
			return fmt.Errorf("redis exited while starting\n%s", logTail(l.log, 20))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis did not answer at %s within %v: %w\n%s", ep.addr(), cfg.Timeout, err, logTail(l.log, 20))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// stopRedis ends the daemon named by pidFile. It reports the pid it stopped,
// or 0 when none was running.
func stopRedis(ctx context.Context, pidFile string) (int, error) {
	pid, err := readPID(pidFile)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if !alive(pid, "redis-server") {
		_ = os.Remove(pidFile)
		return 0, nil
	}
	return pid, stopProcess(ctx, pid, "redis-server", syscall.SIGTERM, 15*time.Second)
}
