package main

import (
	"io"
	"strings"
	"testing"
)

func noEnv(string) string { return "" }

func TestHelpIsNotAnError(t *testing.T) {
	if err := run(t.Context(), []string{"-help"}, noEnv); err != nil {
		t.Errorf("-help: %v", err)
	}
}

func TestBadPortsRefusedBeforeAnythingStarts(t *testing.T) {
	err := run(t.Context(), []string{"-ports", "nonsense"}, noEnv)
	if err == nil || !strings.Contains(err.Error(), "want default, free, or a base port") {
		t.Errorf("err %v", err)
	}
}

func TestEnvironmentSuppliesDefaults(t *testing.T) {
	env := map[string]string{"ORDO_DATABASE_URL": "postgres://x/y", "ORDO_RESET": "true", "ORDO_PORTS": "free"}
	s, err := load(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if s.DatabaseURL != "postgres://x/y" || !s.Reset || s.Ports != "free" {
		t.Errorf("settings %+v", s)
	}
}
