package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"
)

// run measures the targets (four, or six when it started the platform) in
// each phase and prints the report to out.
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
	rep := report{Command: commandLine(args), When: time.Now(), Machine: thisMachine(),
		Warmup: s.Warmup, Duration: s.Duration, Rounds: s.Rounds, Started: !s.external()}
	for _, n := range s.phases() {
		p, err := measurePhase(ctx, s, n, r, proxy.url, out)
		if err != nil {
			return err
		}
		rep.Phases = append(rep.Phases, p)
	}
	fmt.Fprintln(out)
	return rep.write(out)
}

// measurePhase measures every target at concurrency n, in round-robin
// slices.
func measurePhase(ctx context.Context, s settings, n int, r *rig, proxy string, out io.Writer) (phase, error) {
	p := phase{Concurrency: n}
	l := newLoader(n, s.Timeout)
	defer l.client.CloseIdleConnections()
	type measured struct {
		dst *result
		t   target
	}
	targets := []measured{
		{&p.Direct, target{"inventory direct", r.inventory + "/products"}},
		{&p.Minimal, target{"minimal proxy (net/http, no middleware)", proxy + minimalProxyPath}},
		{&p.On, target{"gateway ON", r.gatewayOn + "/api/v1/products"}},
	}
	if r.perRequest != "" {
		targets = append(targets, measured{&p.PerRequest, target{"gateway ON, a Redis decision per request", r.perRequest + "/api/v1/products"}})
	}
	targets = append(targets, measured{&p.Off, target{"gateway OFF", r.gatewayOff + "/api/v1/products"}})
	if r.bare != "" {
		targets = append(targets, measured{&p.Bare, target{"bare echo + Redis read", r.bare + "/products"}})
	}
	// Round robin: every target gets a slice of its time in each round,
	// so a machine that drifts (a neighbour, a frequency change) shifts
	// them all alike instead of whichever was measured then.
	slice := s.Duration / time.Duration(s.Rounds)
	fmt.Fprintf(out, "measuring %d targets with %s: %d rounds of %v each (after a %v warm-up in the first)...\n",
		len(targets), workers(n), s.Rounds, slice, s.Warmup)
	for round := range s.Rounds {
		for _, m := range targets {
			warmup := s.Warmup
			if round > 0 {
				warmup = 0
			}
			got, err := l.measure(ctx, m.t, warmup, slice)
			if err != nil {
				return p, err
			}
			m.dst.add(got)
		}
		fmt.Fprintf(out, "  round %d of %d done\n", round+1, s.Rounds)
	}
	for _, m := range targets {
		m.dst.finish()
		if m.dst.OK == 0 {
			return p, fmt.Errorf("%s: no request succeeded (%d errors, the first: %s)", m.t.Name, m.dst.Errors, m.dst.FirstError)
		}
	}
	return p, nil
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
