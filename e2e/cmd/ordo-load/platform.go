package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/ordo-platform/ordo/e2e/load"
	"github.com/ordo-platform/ordo/launcher"
)

// redisPrefix is where the started platform keeps its keys; the launcher
// deletes the previous run's at each start (Config.Reset).
const redisPrefix = "ordo-load:"

// started is a platform ordo-load started, and how to stop it.
type started struct {
	p       *launcher.Platform
	logins  []string
	about   string
	cleanup func()
}

// startPlatform starts the platform on free ports with a fresh database,
// one customer account per shopper and the gateway's limits lifted. The
// children take the launcher's environment under its own table, so the
// gateway settings are handed down through this process's environment.
func startPlatform(ctx context.Context, s settings, logOut io.Writer) (*started, error) {
	logins := load.Shoppers(s.Customers)
	users, err := load.GatewayUsers(logins, s.Admin, s.Password)
	if err != nil {
		return nil, err
	}
	lifted := strconv.Itoa(1_000_000_000)
	for k, v := range map[string]string{"ORDO_GATEWAY_USERS": users,
		"ORDO_GATEWAY_USER_RATE": lifted, "ORDO_GATEWAY_USER_BURST": lifted,
		"ORDO_GATEWAY_ADDR_RATE": lifted, "ORDO_GATEWAY_ADDR_BURST": lifted} {
		if err := os.Setenv(k, v); err != nil {
			return nil, err
		}
	}
	binDir, cleanBins := s.BinDir, func() {}
	if binDir == "" {
		if binDir, err = os.MkdirTemp("", "ordo-load-bin-"); err != nil {
			return nil, err
		}
		cleanBins = func() { _ = os.RemoveAll(binDir) }
	}
	cfg := launcher.Config{BinDir: binDir, DatabaseURL: s.DatabaseURL, RedisURL: s.RedisURL, RedisPrefix: redisPrefix,
		Reset: true, LogLevel: "warn", Output: logOut, ReadyTimeout: 3 * time.Minute}
	p, err := startOnFreePorts(ctx, cfg)
	if err != nil {
		cleanBins()
		return nil, err
	}
	about := fmt.Sprintf("started by ordo-load through the launcher on free ports: fresh database, %d customer accounts "+
		"(one per shopper), gateway rate limits lifted, services at log level warn", len(logins))
	return &started{p: p, logins: logins, about: about, cleanup: cleanBins}, nil
}

// stop ends the platform and removes the binaries built for it.
func (st *started) stop(ctx context.Context) error {
	err := st.p.Stop(ctx)
	st.cleanup()
	return err
}

// startOnFreePorts tries other ports when a child could not bind its own:
// a "free" port may be taken by another process before the child binds it.
func startOnFreePorts(ctx context.Context, cfg launcher.Config) (*launcher.Platform, error) {
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
		default:
			return p, nil
		}
	}
}
