package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ordo-platform/ordo/launcher"
)

// rig is what the bench measures: the inventory service and gateways
// in front of the same backends, identical but for rate limits and
// breakers. stop ends whatever the bench started.
type rig struct {
	inventory, gatewayOn, gatewayOff string
	// perRequest is a third gateway, on, whose limits are below the size
	// at which it leases (see ratelimit's minLeaseBurst): every request waits for
	// a Redis decision, as with the shipped default policies. bare is the
	// floor: an echo handler doing the same Redis read, in this process.
	// Both only when the bench started the platform.
	perRequest, bare string
	stop             func(context.Context) error
}

// startRig starts the platform with the launcher on free ports, then three
// more gateways from the binary it built: the launcher's own gateway keeps
// the default limits, which a benchmark would hit.
func startRig(ctx context.Context, s settings, logOut io.Writer) (*rig, error) {
	binDir, cleanBins := s.BinDir, func() {}
	if binDir == "" {
		var err error
		if binDir, err = os.MkdirTemp("", "gateway-bench-bin-"); err != nil {
			return nil, err
		}
		cleanBins = func() { _ = os.RemoveAll(binDir) }
	}
	prefix := "ordo-bench-" + randomHex() + ":"
	p, err := startPlatform(ctx, launcher.Config{
		BinDir: binDir, DatabaseURL: s.DatabaseURL, RedisURL: s.RedisURL, RedisPrefix: prefix,
		Reset: true, LogLevel: "warn", Output: logOut, ReadyTimeout: 2 * time.Minute,
	})
	if err != nil {
		cleanBins()
		return nil, err
	}
	stopAll := func(ctx context.Context) error {
		err := errors.Join(p.Stop(ctx), deleteKeys(ctx, s.RedisURL, prefix))
		cleanBins()
		return err
	}
	r := &rig{inventory: p.URLs["inventory"], stop: stopAll}
	if r.inventory == "" {
		return nil, errors.Join(fmt.Errorf("inventory was not started: %s", p.Skipped["inventory"]), stopAll(ctx))
	}
	// What started is ended in reverse, the platform last.
	var ends []func() error
	r.stop = func(ctx context.Context) error {
		var errs []error
		for i := len(ends) - 1; i >= 0; i-- {
			errs = append(errs, ends[i]())
		}
		return errors.Join(append(errs, stopAll(ctx))...)
	}
	bin := filepath.Join(binDir, "gateway")
	gateway := func(name string, args ...string) (string, error) {
		g, err := startGateway(ctx, bin, p, prefix+name+":", logOut, args...)
		if err != nil {
			return "", errors.Join(err, r.stop(ctx))
		}
		ends = append(ends, g.end)
		return g.url, nil
	}
	// On, with limits far above anything the bench can send.
	if r.gatewayOn, err = gateway("bench-on",
		"--addr-rate", "1e9", "--addr-burst", "1000000000", "--user-rate", "1e9", "--user-burst", "1000000000"); err != nil {
		return nil, err
	}
	// A rate no run reaches, a burst too small to lease.
	if r.perRequest, err = gateway("bench-per-request",
		"--addr-rate", "1e9", "--addr-burst", "100", "--user-rate", "1e9", "--user-burst", "100"); err != nil {
		return nil, err
	}
	if r.gatewayOff, err = gateway("bench-off", "--rate-limits=false", "--breakers=false"); err != nil {
		return nil, err
	}
	bare, stopBare, err := startBare(p.RedisURL, prefix+"inventory:")
	if err != nil {
		return nil, errors.Join(err, r.stop(ctx))
	}
	r.bare = bare
	ends = append(ends, stopBare)
	return r, nil
}

// startPlatform starts the platform on free ports, again on others when a
// child could not bind its port: a "free" port may be taken by another
// process before the child binds it, and that stranger may then answer
// the launcher's readiness check.
func startPlatform(ctx context.Context, cfg launcher.Config) (*launcher.Platform, error) {
	for attempt := 1; ; attempt++ {
		ports, err := launcher.FreePorts()
		if err != nil {
			return nil, err
		}
		cfg.Ports = ports
		p, err := launcher.Start(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("start the platform: %w", err)
		}
		time.Sleep(500 * time.Millisecond) // a child that cannot bind exits at once
		select {
		case ex := <-p.Failed():
			err := errors.Join(ex, p.Stop(ctx))
			if attempt == 3 {
				return nil, fmt.Errorf("the platform did not start cleanly in %d attempts: %w", attempt, err)
			}
			continue
		default:
			return p, nil
		}
	}
}

// proc is one process the bench started besides the platform: an extra
// gateway or the minimal proxy.
type proc struct {
	name, url string
	cmd       *exec.Cmd
	exited    chan struct{} // closed once cmd has been waited for
}

// startProc starts cmd and waits for it in the background.
func startProc(name, url string, cmd *exec.Cmd) (*proc, error) {
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, url: url, cmd: cmd, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

func startGateway(ctx context.Context, bin string, p *launcher.Platform, prefix string, logOut io.Writer, extra ...string) (*proc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	args := append([]string{
		"--http-addr", addr, "--redis-url", p.RedisURL, "--redis-prefix", prefix, "--log-level", "warn",
		"--order-url", p.URLs["order"], "--inventory-url", p.URLs["inventory"], "--payment-url", p.URLs["payment"],
		"--notify-url", p.URLs["notify"], "--provider-sim-url", p.URLs["provider-sim"],
	}, extra...)
	cmd := exec.Command(bin, args...) //nolint:gosec,noctx // our own binary; ended by end()
	cmd.Stdout, cmd.Stderr = logOut, logOut
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	g, err := startProc(fmt.Sprintf("gateway %v", extra), "http://"+addr, cmd)
	if err != nil {
		return nil, err
	}
	if err := g.wait(ctx, g.url+"/readyz", 30*time.Second, func(status int) bool { return status == http.StatusOK }); err != nil {
		return nil, errors.Join(err, g.end())
	}
	return g, nil
}

// end stops the process: SIGTERM, then SIGKILL after 10s.
func (p *proc) end() error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return nil
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
		return fmt.Errorf("%s at %s did not stop on SIGTERM", p.name, p.url)
	}
}

// wait polls url until its answer's status is ok, the process exits, or
// within has passed.
func (p *proc) wait(ctx context.Context, url string, within time.Duration, ok func(status int) bool) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if res, err := http.DefaultClient.Do(req); err == nil {
			_ = res.Body.Close()
			if ok(res.StatusCode) {
				return nil
			}
		}
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited before %s answered (%v)", p.name, url, p.cmd.ProcessState)
		case <-ctx.Done():
			return fmt.Errorf("%s: %s not ready within %v", p.name, url, within)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func freePort() (int, error) {
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func randomHex() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// deleteKeys removes the platform's Redis keys once it has stopped (the
// database stays, to be reset by the next run).
func deleteKeys(ctx context.Context, redisURL, prefix string) error {
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		return err
	}
	rdb := redis.NewClient(opts)
	defer func() { _ = rdb.Close() }()
	iter := rdb.Scan(ctx, 0, prefix+"*", 500).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
		if len(keys) == 500 {
			if err := rdb.Unlink(ctx, keys...).Err(); err != nil {
				return err
			}
			keys = keys[:0]
		}
	}
	if len(keys) > 0 {
		if err := rdb.Unlink(ctx, keys...).Err(); err != nil {
			return err
		}
	}
	return iter.Err()
}
