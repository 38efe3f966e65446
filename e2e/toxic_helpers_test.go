package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// toxicRedis is a redis-server of the test's own, memory only, that the
// test can kill and start again empty on the same port.
type toxicRedis struct {
	bin, dir string
	port     int
	out      *logBuffer
	cmd      *exec.Cmd
	done     chan struct{}
}

func startToxicRedis(t *testing.T) *toxicRedis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server is not on PATH (Debian: apt-get install redis-server; make test's ordo-infra installs it): %v", err)
	}
	_, port, _ := net.SplitHostPort(toxicFreeAddr(t))
	rs := &toxicRedis{bin: bin, dir: t.TempDir(), out: &logBuffer{}}
	rs.port, _ = strconv.Atoi(port)
	rs.start(t)
	t.Cleanup(func() {
		rs.kill()
		if t.Failed() {
			t.Logf("redis-server output (tail):\n%s", rs.out.Tail(4000))
		}
	})
	return rs
}

func (rs *toxicRedis) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", rs.port) }

// start runs redis-server and waits until it answers PING.
func (rs *toxicRedis) start(t *testing.T) {
	t.Helper()
	cmd := exec.Command(rs.bin, "--port", strconv.Itoa(rs.port), "--bind", "127.0.0.1", //nolint:gosec,noctx // our own arguments; ended by kill
		"--save", "", "--appendonly", "no", "--dir", rs.dir)
	cmd.Stdout, cmd.Stderr = rs.out, rs.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	rs.cmd, rs.done = cmd, make(chan struct{})
	go func(done chan struct{}) { _ = cmd.Wait(); close(done) }(rs.done)
	rdb := redis.NewClient(&redis.Options{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(rs.port)), MaxRetries: -1})
	defer func() { _ = rdb.Close() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := rdb.Ping(t.Context()).Err()
		if err == nil {
			return
		}
		select {
		case <-rs.done:
			t.Fatalf("redis-server exited while starting:\n%s", rs.out.Tail(2000))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on port %d did not answer within 30s: %v", rs.port, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill ends redis-server with SIGKILL, as a crash would; its data is gone.
func (rs *toxicRedis) kill() {
	if rs.cmd == nil {
		return
	}
	_ = rs.cmd.Process.Kill()
	<-rs.done
	rs.cmd = nil
}

// keys is how many keys the server holds.
func (rs *toxicRedis) keys(ctx context.Context) (int64, error) {
	rdb := redis.NewClient(&redis.Options{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(rs.port))})
	defer func() { _ = rdb.Close() }()
	return rdb.DBSize(ctx).Result()
}

// startToxicGateway runs one more gateway in front of the platform's
// services, on its own port and Redis prefix, with extra flags; the scenario
// uses it for settings the platform's gateway does not have.
func startToxicGateway(t *testing.T, binDir string, p *loadPlatform, redisURL, name string, extra ...string) string {
	t.Helper()
	addr := toxicFreeAddr(t)
	args := append([]string{
		"--http-addr", addr, "--redis-url", redisURL, "--redis-prefix", p.RedisPrefix + name + ":", "--log-level", "warn",
		"--order-url", p.URLs["order"], "--inventory-url", p.URLs["inventory"], "--payment-url", p.URLs["payment"],
		"--notify-url", p.URLs["notify"], "--provider-sim-url", p.URLs["provider-sim"],
	}, extra...)
	out := &logBuffer{}
	cmd := exec.Command(filepath.Join(binDir, "gateway"), args...) //nolint:gosec,noctx // our own binary; ended at cleanup
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start gateway %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("gateway %s output (tail):\n%s", name, out.Tail(4000))
		}
	})
	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, _, _, err := toxicCall(t.Context(), base, "", http.MethodGet, "/readyz", nil, nil)
		if err == nil && st == http.StatusOK {
			return base
		}
		if time.Now().After(deadline) {
			t.Fatalf("gateway %s not ready within 30s (%d, %v):\n%s", name, st, err, out.Tail(2000))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// toxicCall is one request whose status and headers the caller judges.
func toxicCall(ctx context.Context, base, token, method, path string, hdr map[string]string, body any) (int, http.Header, []byte, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, nil, err
		}
		r = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, base+path, r)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, resp.Header, b, err
}

// toxicProblem is the last part of a problem+json answer's type, "" if the
// body is none.
func toxicProblem(body []byte) string {
	var p struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(body, &p) != nil {
		return ""
	}
	return filepath.Base(p.Type)
}

// toxicWithin retries f every 200ms until it returns nil or d has passed, and
// returns its last error.
func toxicWithin(ctx context.Context, d time.Duration, f func() error) error {
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// placeSettled places plans and waits until all are final.
func placeSettled(t *testing.T, customers []*loadClient, plans []orderPlan, rate int) map[string]orderPlan {
	t.Helper()
	placed, errs := placePlans(t.Context(), customers, plans, 8, rate)
	if len(errs) > 0 {
		t.Fatalf("%d orders could not be placed; first: %v", len(errs), errs[0])
	}
	ids := map[string]int{}
	for id, pl := range placed {
		ids[id] = pl.customer
	}
	waitFinal(t, customers, ids, 2*time.Minute)
	return placed
}

// placePlans is placeAll keeping each order's plan.
func placePlans(ctx context.Context, customers []*loadClient, plans []orderPlan, workers, rate int) (map[string]orderPlan, []error) {
	byKey := map[string]orderPlan{}
	for _, pl := range plans {
		byKey[pl.key] = pl
	}
	var mu sync.Mutex
	placed := map[string]orderPlan{}
	var errs []error
	next := make(chan orderPlan)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for pl := range next {
				o, err := customers[pl.customer].place(ctx, pl.key, pl.lines, time.Minute)
				mu.Lock()
				if err != nil {
					errs = append(errs, fmt.Errorf("order %s: %w", pl.key, err))
				} else {
					placed[o.ID] = pl
				}
				mu.Unlock()
			}
		})
	}
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	for _, pl := range plans {
		<-tick.C
		next <- pl
	}
	close(next)
	wg.Wait()
	return placed, errs
}
