package main

import (
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestHelpExplainsTheModelAndEveryFlag(t *testing.T) {
	var out strings.Builder
	if err := run(t.Context(), []string{"--help"}, env(nil), &out, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: %v", err)
	}
	for _, want := range []string{"open model", "coordinated", "due time", "browse-heavy", "checkout-heavy", "mixed",
		"-rate", "-workload", "-warmup", "-duration", "-customers", "-seed", "-markdown", "-html", "-doc", "-gateway-url",
		"-max-in-flight", "-late-after", "ORDO_LOAD_RATE"} {
		if !strings.Contains(strings.ToLower(out.String()), strings.ToLower(want)) {
			t.Errorf("--help does not mention %q", want)
		}
	}
}

func TestSettings(t *testing.T) {
	s, err := parse([]string{"-workload", "checkout-heavy, browse-heavy", "-rate", "10,200", "-logins", "a, b"}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Workloads) != 2 || s.rate(0) != 10 || s.rate(1) != 200 || strings.Join(s.Logins, "+") != "a+b" {
		t.Fatalf("%+v", s)
	}
	s, err = parse(nil, env(map[string]string{"ORDO_LOAD_RATE": "7"}), io.Discard)
	if err != nil || s.rate(0) != 7 || s.Workloads[0] != "mixed" {
		t.Fatalf("from the environment: %+v, %v", s, err)
	}
}

func TestSettingsRefused(t *testing.T) {
	for name, args := range map[string][]string{
		"unknown workload":   {"-workload", "heavy"},
		"rates do not match": {"-workload", "mixed,mixed,mixed", "-rate", "1,2"},
		"zero rate":          {"-rate", "0"},
		"the dev database":   {"-database-url", "postgres://postgres@127.0.0.1:5432/ordo?sslmode=disable"},
		"no logins":          {"-logins", " , "},
		"no customers":       {"-customers", "0"},
	} {
		if _, err := parse(args, env(nil), io.Discard); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestHTMLLinkIsRelativeToTheDocument(t *testing.T) {
	for _, tc := range []struct {
		s    settings
		want string
	}{
		{settings{HTML: "docs/load/index.html", Doc: "docs/benchmarks.md"}, "load/index.html"},
		{settings{HTML: "out/r.html", Markdown: "out/r.md"}, "r.html"},
		{settings{HTML: "r.html"}, "r.html"},
		{settings{}, ""},
	} {
		if got := tc.s.htmlLink(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.s, got, tc.want)
		}
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{"-rate": "-rate", "10,200": "10,200", "a b": "'a b'", "it's": `'it'\''s'`, "": "''"} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
