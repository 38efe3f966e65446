package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) addr() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range strings.Split(l.b.String(), "\n") {
		var v struct{ Msg, Addr string }
		if json.Unmarshal([]byte(line), &v) == nil && v.Msg == "listening" {
			return v.Addr
		}
	}
	return ""
}

func TestRunServesFaultsAndShutsDown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var logs logBuffer
	done := make(chan error, 1)
	env := map[string]string{"ORDO_PROVIDER_SIM_ERROR_RATE": "0.5"}
	go func() {
		done <- run(ctx, []string{"-http-addr", "127.0.0.1:0", "-seed", "9"}, func(k string) string { return env[k] }, &logs)
	}()
	var addr string
	for deadline := time.Now().Add(10 * time.Second); addr == "" && time.Now().Before(deadline); addr = logs.addr() {
		time.Sleep(10 * time.Millisecond)
	}
	if addr == "" {
		cancel()
		t.Fatalf("never listened: %v", <-done)
	}
	res, err := get(t, "http://"+addr+"/v1/faults")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(b), `"error_rate":0.5`) {
		t.Errorf("faults from the environment: %s", b)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
}

func TestRunHelpAndBadFaults(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--help"}, func(string) string { return "" }, &out); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("--help: %v", err)
	}
	if !strings.Contains(out.String(), "-lost-response-rate") {
		t.Errorf("help:\n%s", out.String())
	}
	if err := run(context.Background(), []string{"-error-rate", "3"}, func(string) string { return "" }, io.Discard); err == nil {
		t.Error("error-rate 3 accepted")
	}
}

// get is http.Get with a context.
func get(t *testing.T, url string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	return http.DefaultClient.Do(req)
}
