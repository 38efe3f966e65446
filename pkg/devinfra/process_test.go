package devinfra

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestProcState(t *testing.T) {
	for stat, want := range map[string]byte{
		"42 (postgres) S 1 42":     'S',
		"43 (redis-server) Z 1 43": 'Z',
		"44 (odd) name) R 1 44":    'R',
		"garbage":                  0,
	} {
		if got := procState([]byte(stat)); got != want {
			t.Errorf("procState(%q) = %q, want %q", stat, got, want)
		}
	}
}

func TestReadPID(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "postmaster.pid")
	writeFile(t, good, "4242\n/var/lib/postgresql/data\n")
	if pid, err := readPID(good); err != nil || pid != 4242 {
		t.Errorf("readPID = %d, %v; want 4242", pid, err)
	}
	bad := filepath.Join(dir, "bad.pid")
	writeFile(t, bad, "nope\n")
	if _, err := readPID(bad); err == nil {
		t.Error("readPID of a bad file succeeded")
	}
}

func TestAliveChecksProgramName(t *testing.T) {
	if !alive(os.Getpid(), "devinfra.test") {
		t.Error("this test process is not alive")
	}
	if _, err := os.Stat("/proc/self/cmdline"); err == nil && alive(os.Getpid(), "redis-server") {
		t.Error("this test process passed for redis-server")
	}
}

func TestLogTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "server.log")
	writeFile(t, path, "one\ntwo\nthree\n")
	got := logTail(path, 2)
	if !strings.HasSuffix(got, "two\n  three") || strings.Contains(got, "one") {
		t.Errorf("logTail = %q", got)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
