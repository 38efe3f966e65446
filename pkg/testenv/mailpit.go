package testenv

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ordo-platform/ordo/pkg/devinfra"
)

// mailpitInstall serialises finding (or installing) the binary within one
// test process; devinfra's file lock covers parallel test processes.
var mailpitInstall sync.Mutex

// Mailpit starts a private Mailpit for this test on free loopback ports and
// returns its SMTP address (host:port) and API base URL
// (http://host:port). It is stopped, with every message it caught, when the
// test ends. The binary is found on PATH, in GOPATH/bin or in the state dir
// (ORDO_STATE_DIR, default .ordo/), and installed there with `go install`
// when missing. The test fails, never skips, when Mailpit cannot start.
func Mailpit(t testing.TB) (smtpAddr, apiURL string) {
	t.Helper()
	bin := mailpitBinary(t)
	var lastErr error
	for range 3 { // a free port can be taken between probing and binding
		smtpAddr, httpAddr := freeAddr(t), freeAddr(t)
		var out bytes.Buffer
		cmd := exec.Command(bin, devinfra.MailpitArgs(smtpAddr, httpAddr)...) //nolint:gosec,noctx // our binary; stopped in Cleanup
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatalf("testenv: start mailpit: %v", err)
		}
		exited := make(chan struct{})
		var waitErr error
		go func() { waitErr = cmd.Wait(); close(exited) }()
		apiURL = "http://" + httpAddr
		if lastErr = waitMailpit(smtpAddr, apiURL, exited, &waitErr); lastErr == nil {
			t.Cleanup(func() { stopMailpit(t, cmd, exited) })
			return smtpAddr, apiURL
		}
		_ = cmd.Process.Kill()
		<-exited
		lastErr = &mailpitError{err: lastErr, out: out.String()}
	}
	t.Fatalf("testenv: mailpit did not start: %v", lastErr)
	return "", ""
}

type mailpitError struct {
	err error
	out string
}

func (e *mailpitError) Error() string { return e.err.Error() + "\noutput:\n" + e.out }

func mailpitBinary(t testing.TB) string {
	t.Helper()
	mailpitInstall.Lock()
	defer mailpitInstall.Unlock()
	dir := os.Getenv("ORDO_STATE_DIR")
	if dir == "" {
		var err error
		if dir, err = devinfra.DefaultStateDir(); err != nil {
			t.Fatalf("testenv: %v", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	bin, err := devinfra.MailpitBinary(ctx, dir, nil, os.Stderr)
	if err != nil {
		t.Fatalf("testenv: mailpit binary: %v", err)
	}
	return bin
}

// waitMailpit waits until Mailpit is ready or its process has exited.
func waitMailpit(smtpAddr, apiURL string, exited <-chan struct{}, waitErr *error) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ready := make(chan error, 1)
	go func() { ready <- devinfra.WaitMailpit(ctx, smtpAddr, apiURL, timeout) }()
	select {
	case err := <-ready:
		return err
	case <-exited: // the prober ends with ctx and has room to report
		return &exitError{err: *waitErr}
	}
}

type exitError struct{ err error }

func (e *exitError) Error() string { return "mailpit exited while starting: " + errString(e.err) }

func errString(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

func stopMailpit(t testing.TB, cmd *exec.Cmd, exited <-chan struct{}) {
	t.Helper()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
}

// freeAddr returns a loopback address with a port that was free a moment
// ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: find a free port: %v", err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}
