package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ordo-platform/ordo/pkg/devinfra"
)

// env is a getenv that knows only the given variables.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{nil, {"--help"}, {"ensure", "--help"}, {"exec", "-h"}, {"stop", "-help"}, {"reset", "--help"}} {
		var out, errOut bytes.Buffer
		err := newApp(&out, &errOut).dispatch(t.Context(), args, env(nil))
		if err != nil {
			t.Errorf("%q: %v", args, err)
		}
		if help := out.String() + errOut.String(); !strings.Contains(help, "usage: ordo-infra") {
			t.Errorf("%q printed no usage:\n%s", args, help)
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	var out bytes.Buffer
	if err := newApp(&out, &out).dispatch(t.Context(), []string{"bogus"}, env(nil)); err == nil {
		t.Error("unknown command accepted")
	}
}

func TestFlagsDefaultToEnvironment(t *testing.T) {
	a := newApp(&bytes.Buffer{}, &bytes.Buffer{})
	cfg, err := a.parse("exec", "", []string{"-redis-url", "redis://127.0.0.1:1/0", "--", "go", "test"}, env(map[string]string{
		"ORDO_DATABASE_URL": "postgres://x@127.0.0.1:1/db",
		"ORDO_STATE_DIR":    "/tmp/state",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := config{databaseURL: "postgres://x@127.0.0.1:1/db", redisURL: "redis://127.0.0.1:1/0", stateDir: "/tmp/state", args: []string{"go", "test"}}
	if cfg.databaseURL != want.databaseURL || cfg.redisURL != want.redisURL || cfg.stateDir != want.stateDir || strings.Join(cfg.args, " ") != "go test" {
		t.Errorf("config = %+v, want %+v", cfg, want)
	}
}

func TestShellQuote(t *testing.T) {
	if got := shellQuote("a'b?c"); got != `'a'\''b?c'` {
		t.Errorf("shellQuote = %s", got)
	}
}

// TestExecPassesURLsAndExitCode runs against the servers this machine
// provides (the defaults, or what `make test` exported).
func TestExecPassesURLsAndExitCode(t *testing.T) {
	vars := map[string]string{
		"ORDO_DATABASE_URL": envOr(os.Getenv, "ORDO_DATABASE_URL", devinfra.DefaultDatabaseURL),
		"ORDO_REDIS_URL":    envOr(os.Getenv, "ORDO_REDIS_URL", devinfra.DefaultRedisURL),
		"ORDO_STATE_DIR":    filepath.Join(t.TempDir(), "state"),
	}
	var out, errOut bytes.Buffer
	script := `test "$ORDO_DATABASE_URL" = "` + vars["ORDO_DATABASE_URL"] + `" && test -n "$ORDO_REDIS_URL" && exit 3`
	err := newApp(&out, &errOut).dispatch(t.Context(), []string{"exec", "--", "sh", "-c", script}, env(vars))
	var exit exitError
	if !errors.As(err, &exit) || exit.code != 3 {
		t.Fatalf("exec = %v, want exit code 3\n%s", err, errOut.String())
	}
}
