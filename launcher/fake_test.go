package launcher

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as a fake child: started with LAUNCHER_FAKE set,
// TestMain runs fakeChild instead of the tests (the os.Args[0] re-exec
// pattern), so process handling is tested on real processes.
func TestMain(m *testing.M) {
	if mode := os.Getenv("LAUNCHER_FAKE"); mode != "" {
		fakeChild(mode)
		return
	}
	os.Exit(m.Run())
}

// fakeChild behaves as mode says:
//
//	serve        answer /readyz 503 until LAUNCHER_FAKE_READY_AFTER, then 200; exit 0 on SIGTERM
//	never-ready  like serve, but /readyz always 503
//	stubborn     like serve, but ignore SIGTERM (only SIGKILL ends it)
//	crash        print lines, then exit with code 3
func fakeChild(mode string) {
	fmt.Println("fake child starting in mode", mode)
	if mode == "crash" {
		for i := range 3 {
			fmt.Println("crash line", i)
		}
		fmt.Fprint(os.Stderr, "panic: no newline at the end")
		os.Exit(3)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM)
	readyAt := time.Now()
	if d, err := time.ParseDuration(os.Getenv("LAUNCHER_FAKE_READY_AFTER")); err == nil {
		readyAt = readyAt.Add(d)
	}
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", os.Getenv("LAUNCHER_FAKE_ADDR"))
	if err != nil {
		fmt.Println("listen:", err)
		os.Exit(2)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if mode == "never-ready" || time.Now().Before(readyAt) {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok"))
	})
	go func() { _ = http.Serve(ln, mux) }() //nolint:gosec // a test fake
	fmt.Println("listening on", ln.Addr())
	for range sigs {
		if mode != "stubborn" {
			fmt.Println("got SIGTERM, bye")
			os.Exit(0)
		}
		fmt.Println("got SIGTERM, ignoring it")
	}
}

// fakeKid is a child running the test binary as a fake in mode.
func fakeKid(t *testing.T, con *console, name, mode string, readyAfter time.Duration) *child {
	t.Helper()
	port := freePort(t)
	addr := net.JoinHostPort(loopback, strconv.Itoa(port))
	c := &child{
		name: name, bin: os.Args[0], url: "http://" + addr,
		env: append(os.Environ(), "LAUNCHER_FAKE="+mode, "LAUNCHER_FAKE_ADDR="+addr,
			"LAUNCHER_FAKE_READY_AFTER="+readyAfter.String()),
		log: newLineWriter(con, con.prefix(name, 0)),
	}
	t.Cleanup(func() { _ = c.kill(context.Background()) })
	return c
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", net.JoinHostPort(loopback, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port
}
