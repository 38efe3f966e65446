package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"
)

// run measures the targets (four, or five when it started the platform) and prints the report to out.
func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	s, err := load(args, getenv, out)
	if err != nil {
		return err
	}
	r := &rig{inventory: s.InventoryURL, gatewayOn: s.GatewayOnURL, gatewayOff: s.GatewayOffURL,
		stop: func(context.Context) error { return nil }}
	var childOut io.Writer = os.Stderr
	if !s.external() {
		logOut, path, err := openLog(s.LogFile)
		if err != nil {
			return err
		}
		defer func() { _ = logOut.Close() }()
		childOut = logOut
		fmt.Fprintf(out, "starting the platform (builds every binary; its log: %s)\n", path)
		if r, err = startRig(ctx, s, logOut); err != nil {
			return fmt.Errorf("%w (see %s)", err, path)
		}
	}
	defer func() { _ = r.stop(context.WithoutCancel(ctx)) }()
	proxy, err := startMinimalProxy(ctx, r.inventory, childOut)
	if err != nil {
		return err
	}
	defer func() { _ = proxy.end() }()
	rep := report{Command: commandLine(args), When: time.Now(), Machine: thisMachine(), Concurrency: s.Concurrency,
		Warmup: s.Warmup, Duration: s.Duration, Started: !s.external()}
	l := newLoader(s.Concurrency, s.Warmup, s.Duration, s.Timeout)
	type measured struct {
		dst *result
		t   target
	}
	targets := []measured{
		{&rep.Direct, target{"inventory direct", r.inventory + "/products"}},
		{&rep.Minimal, target{"minimal proxy (net/http, no middleware)", proxy.url + minimalProxyPath}},
		{&rep.On, target{"gateway ON", r.gatewayOn + "/api/v1/products"}},
		{&rep.Off, target{"gateway OFF", r.gatewayOff + "/api/v1/products"}},
	}
	if r.bare != "" {
		targets = append(targets, measured{&rep.Bare, target{"bare echo + Redis read", r.bare + "/products"}})
	}
	for _, m := range targets {
		fmt.Fprintf(out, "measuring %s (%s) for %v...\n", m.t.Name, m.t.URL, s.Warmup+s.Duration)
		if *m.dst, err = l.measure(ctx, m.t); err != nil {
			return err
		}
		if m.dst.OK == 0 {
			return fmt.Errorf("%s: no request succeeded (%d errors, the first: %s)", m.t.Name, m.dst.Errors, m.dst.FirstError)
		}
	}
	fmt.Fprintln(out)
	return rep.write(out)
}

func openLog(path string) (io.WriteCloser, string, error) {
	if path == "" {
		f, err := os.CreateTemp("", "gateway-bench-*.log")
		if err != nil {
			return nil, "", err
		}
		return f, f.Name(), nil
	}
	f, err := os.Create(path) //nolint:gosec // the operator's own path
	return f, path, err
}
