package devinfra

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// mailpitConfig points at free loopback ports and a fresh state dir, with
// the binary of the shared state dir on PATH so the test does not compile
// Mailpit again.
func mailpitConfig(t *testing.T) MailpitConfig {
	t.Helper()
	shared, err := DefaultStateDir()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := MailpitBinary(t.Context(), shared, slog.New(slog.NewTextHandler(testWriter{t}, nil)), testWriter{t})
	if err != nil {
		t.Fatalf("MailpitBinary: %v", err)
	}
	t.Setenv("PATH", filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	return MailpitConfig{
		SMTPAddr: fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		APIURL:   fmt.Sprintf("http://127.0.0.1:%d", freePort(t)),
		StateDir: t.TempDir(),
		Log:      slog.New(slog.NewTextHandler(testWriter{t}, nil)),
		Output:   testWriter{t},
		Timeout:  30 * time.Second,
	}
}

func TestEnsureMailpitStartsReusesAndStops(t *testing.T) {
	cfg := mailpitConfig(t)
	m, err := EnsureMailpit(t.Context(), cfg)
	if err != nil {
		t.Fatalf("EnsureMailpit: %v", err)
	}
	t.Cleanup(func() { _ = m.Stop(t.Context()) })
	if !m.Started() {
		t.Fatal("EnsureMailpit found a Mailpit on fresh ports instead of starting one")
	}
	if err := probeSMTP(t.Context(), m.SMTPAddr); err != nil {
		t.Fatalf("SMTP does not greet after start: %v", err)
	}

	again, err := EnsureMailpit(t.Context(), cfg)
	if err != nil {
		t.Fatalf("second EnsureMailpit: %v", err)
	}
	if again.Started() {
		t.Error("a second EnsureMailpit started another instance although the first answers")
	}

	if err := m.Stop(t.Context()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := probeSMTP(t.Context(), m.SMTPAddr); !errors.Is(err, errNoAnswer) {
		t.Errorf("SMTP still answers after Stop: %v", err)
	}
	if _, err := os.Stat(newMailpitLayout(cfg.StateDir).pidFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pid file left behind: %v", err)
	}
}

func TestStopMailpitByStateDir(t *testing.T) {
	cfg := mailpitConfig(t)
	m, err := EnsureMailpit(t.Context(), cfg)
	if err != nil {
		t.Fatalf("EnsureMailpit: %v", err)
	}
	t.Cleanup(func() { _ = m.Stop(t.Context()) })
	if err := StopMailpit(t.Context(), cfg.StateDir, nil); err != nil {
		t.Fatalf("StopMailpit: %v", err)
	}
	if err := probeMailpitAPI(t.Context(), m.APIURL); !errors.Is(err, errNoAnswer) {
		t.Errorf("API still answers after StopMailpit: %v", err)
	}
	if err := StopMailpit(t.Context(), t.TempDir(), nil); err != nil {
		t.Errorf("StopMailpit with nothing running: %v", err)
	}
}

func TestEnsureMailpitRefusesForeignListener(t *testing.T) {
	lis, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lis.Close() })
	go func() { // not SMTP: accept and hang up
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	cfg := mailpitConfig(t)
	cfg.SMTPAddr = lis.Addr().String()
	_, err = EnsureMailpit(t.Context(), cfg)
	if err == nil || !strings.Contains(err.Error(), "not a working Mailpit") {
		t.Fatalf("EnsureMailpit = %v, want an error about the listener", err)
	}
	if _, err := os.Stat(newMailpitLayout(cfg.StateDir).dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("EnsureMailpit prepared a private instance although something listens: %v", err)
	}
}

func TestMailpitEndpoints(t *testing.T) {
	tests := []struct {
		smtp, api string
		wantErr   bool
	}{
		{"127.0.0.1:1025", "http://127.0.0.1:8025", false},
		{"localhost:1025", "http://localhost", false},
		{"127.0.0.1", "http://127.0.0.1:8025", true},
		{"127.0.0.1:0", "http://127.0.0.1:8025", true},
		{"127.0.0.1:1025", "https://127.0.0.1:8025", true},
		{"127.0.0.1:1025", "http://:8025", true},
	}
	for _, tc := range tests {
		_, _, err := mailpitEndpoints(tc.smtp, tc.api)
		if (err != nil) != tc.wantErr {
			t.Errorf("mailpitEndpoints(%q, %q) = %v, want error %v", tc.smtp, tc.api, err, tc.wantErr)
		}
	}
}
