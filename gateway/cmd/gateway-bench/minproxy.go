package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

// minimalProxyEnv, when set, makes the bench's binary the minimal proxy
// instead: it serves on the listener it inherited as file descriptor 3 and
// forwards to the URL this variable holds.
const minimalProxyEnv = "ORDO_GATEWAY_BENCH_CHILD_MINIMAL_PROXY_TO"

// minimalProxyPath is the path the minimal proxy serves, the gateway's.
const minimalProxyPath = "/api/v1/products"

// childMain runs the minimal proxy when this process was started as one,
// and reports whether it was.
func childMain() (bool, error) {
	upstream := os.Getenv(minimalProxyEnv)
	if upstream == "" {
		return false, nil
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	f := os.NewFile(3, "listener")
	ln, err := net.FileListener(f)
	_ = f.Close()
	if err != nil {
		return true, fmt.Errorf("minimal proxy: the inherited listener: %w", err)
	}
	return true, serveMinimalProxy(ctx, ln, upstream)
}

// serveMinimalProxy is the floor of any proxy in front of the inventory
// service: the cost of the extra loopback HTTP hop alone. It answers GET
// /api/v1/products with the status, Content-Type and body of one GET to
// upstream, and 404 to anything else; no middleware, no auth, no limits,
// no breaker, no logging. It is a hand-written forward over the standard
// library (an http.Server and an http.Client whose Transport keeps
// connections alive, enough of them idle for the bench's most workers)
// rather than httputil.ReverseProxy, which does more per request (copies
// every header, strips hop-by-hop ones, adds X-Forwarded-For) and would
// raise the floor. Compression is off, as in the loader: no body is
// re-encoded on the way.
func serveMinimalProxy(ctx context.Context, ln net.Listener, upstream string) error {
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: 90 * time.Second, DisableCompression: true,
	}}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != minimalProxyPath {
			http.NotFound(w, r)
			return
		}
		req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, upstream, nil) //nolint:gosec // the URL is the benchmark's own inventory, fixed at start
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		res, err := client.Do(req) //nolint:gosec // as above
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer func() { _ = res.Body.Close() }()
		if ct := res.Header.Get("Content-Type"); ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		if res.ContentLength >= 0 {
			w.Header().Set("Content-Length", strconv.FormatInt(res.ContentLength, 10))
		}
		w.WriteHeader(res.StatusCode)
		_, _ = io.Copy(w, res.Body)
	})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// startMinimalProxy starts the minimal proxy in front of inventory (a base
// URL) as a process of its own, the bench's binary run again: like a
// gateway, it has its own runtime and shares no scheduler or collector
// with the load generator. It listens on a free loopback port bound here
// and handed over, so no other process can take the port in between.
func startMinimalProxy(ctx context.Context, inventory string, logOut io.Writer) (*proc, error) {
	bin, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("minimal proxy: %w", err)
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	defer func() { _ = ln.Close() }()
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	cmd := exec.Command(bin) //nolint:gosec,noctx // our own binary; ended by end()
	cmd.Env = append(os.Environ(), minimalProxyEnv+"="+inventory+"/products")
	cmd.ExtraFiles = []*os.File{f} // file descriptor 3
	cmd.Stdout, cmd.Stderr = logOut, logOut
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p, err := startProc("minimal proxy", "http://"+ln.Addr().String(), cmd)
	if err != nil {
		return nil, err
	}
	// Any answer, even 404, shows the proxy serves: the inventory's own
	// answers are the measurement's business.
	if err := p.wait(ctx, p.url+"/", 30*time.Second, func(int) bool { return true }); err != nil {
		return nil, errors.Join(err, p.end())
	}
	return p, nil
}
