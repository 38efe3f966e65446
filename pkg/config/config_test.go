package config_test

import (
	"bytes"
	"errors"
	"flag"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/ordo-platform/ordo/pkg/config"
	"github.com/ordo-platform/ordo/pkg/es"
)

type settings struct {
	Addr    string
	DB      string
	Key     string
	Workers int
	Timeout time.Duration
	Debug   bool
	Rate    float64
}

func load(env map[string]string, args ...string) (*settings, *config.Loader, error) {
	var s settings
	l := config.New("svc", "ORDO_SVC_", func(k string) string { return env[k] })
	l.SetOutput(&bytes.Buffer{})
	l.String(&s.Addr, "http-addr", "127.0.0.1:8081", "listen address")
	l.String(&s.DB, "database-url", "postgres://u@h/db", "event store")
	l.Secret(&s.Key, "signing-key", "dev", "key")
	l.Int(&s.Workers, "workers", 4, "workers")
	l.Duration(&s.Timeout, "timeout", 2*time.Second, "timeout")
	l.Bool(&s.Debug, "debug", false, "debug")
	l.Float(&s.Rate, "rate", 0.5, "rate")
	return &s, l, l.Parse(args)
}

func TestPrecedence(t *testing.T) {
	s, _, err := load(map[string]string{"ORDO_SVC_HTTP_ADDR": ":9", "ORDO_SVC_WORKERS": "8", "ORDO_SVC_TIMEOUT": "5s"}, "-workers=16")
	if err != nil {
		t.Fatal(err)
	}
	want := settings{Addr: ":9", DB: "postgres://u@h/db", Key: "dev", Workers: 16, Timeout: 5 * time.Second, Rate: 0.5}
	if *s != want {
		t.Fatalf("got %+v, want %+v", *s, want)
	}
}

func TestBadEnvironment(t *testing.T) {
	_, _, err := load(map[string]string{"ORDO_SVC_WORKERS": "many", "ORDO_SVC_TIMEOUT": "soon"})
	if err == nil || !strings.Contains(err.Error(), "ORDO_SVC_WORKERS") || !strings.Contains(err.Error(), "ORDO_SVC_TIMEOUT") {
		t.Fatalf("got %v, want both bad variables named", err)
	}
	if _, _, err := load(nil, "--help"); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: %v", err)
	}
}

func TestSecretsMasked(t *testing.T) {
	_, l, err := load(map[string]string{"ORDO_SVC_SIGNING_KEY": "hunter2", "ORDO_SVC_DATABASE_URL": "postgres://ordo:pw@db/ordo"})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "settings", l)
	out := buf.String()
	if strings.Contains(out, "hunter2") || strings.Contains(out, ":pw@") || !strings.Contains(out, "ordo:****@db") {
		t.Fatalf("secrets not masked: %s", out)
	}
}

func TestNewLogger(t *testing.T) {
	var buf bytes.Buffer
	log, err := config.NewLogger(&buf, "warn", "json")
	if err != nil {
		t.Fatal(err)
	}
	log.Info("hidden")
	log.Warn("shown")
	if out := buf.String(); strings.Contains(out, "hidden") || !strings.Contains(out, `"msg":"shown"`) {
		t.Fatalf("level or format not applied: %s", out)
	}
	for _, bad := range [][2]string{{"loud", "json"}, {"info", "xml"}} {
		if _, err := config.NewLogger(&buf, bad[0], bad[1]); err == nil {
			t.Errorf("NewLogger(%q, %q) accepted", bad[0], bad[1])
		}
	}
}

func TestNewLoggerNamesTheTraceAndCorrelation(t *testing.T) {
	var buf bytes.Buffer
	log, err := config.NewLogger(&buf, "info", "json")
	if err != nil {
		t.Fatal(err)
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{0x4b, 0xf9}, SpanID: trace.SpanID{0x0f, 0x06}, TraceFlags: trace.FlagsSampled})
	ctx := es.WithMetadata(trace.ContextWithSpanContext(t.Context(), sc), es.Metadata{CorrelationID: "order-1"})
	log.InfoContext(ctx, "handled")
	out := buf.String()
	for _, want := range []string{`"trace_id":"4bf90000000000000000000000000000"`, `"span_id":"0f06000000000000"`, `"correlation_id":"order-1"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log line %s lacks %s", out, want)
		}
	}
}
