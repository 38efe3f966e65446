package upstream

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// h1Transport is the RoundTripper of a client whose backend speaks plain
// HTTP/1.1: each call writes its request and reads its answer on a kept-
// alive connection in the calling goroutine. net/http's Transport gives
// every connection a reader and a writer goroutine and hands each request
// and answer between them and the caller, which on a busy gateway costs
// more than the call's own system calls; a backend call here needs none of
// what that buys (HTTP/2, proxies, TLS, Expect: 100-continue).
//
// A context that ends (the caller hung up, the deadline passed) cuts the
// call short, and the call's error is then the context's, as with
// net/http. A kept-alive connection the backend has closed meanwhile
// (a restart) fails before its answer starts; a call that can be sent
// again (GET, HEAD, OPTIONS or with an Idempotency-Key, as net/http
// decides) then goes out once more on a new connection, and one that
// cannot is only sent on a connection first seen to be still open.
type h1Transport struct {
	addr string // host:port
	// headerTimeout bounds the wait for the answer's headers.
	headerTimeout time.Duration
	idleTimeout   time.Duration
	maxIdle       int
	dialer        net.Dialer

	mu   sync.Mutex
	idle []*h1Conn // the most recently used last
}

type h1Conn struct {
	nc     net.Conn
	br     *bufio.Reader
	bw     *bufio.Writer
	idleAt time.Time
}

func newH1Transport(addr string) *h1Transport {
	return &h1Transport{addr: addr, headerTimeout: 30 * time.Second, idleTimeout: 90 * time.Second, maxIdle: 64,
		dialer: net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}}
}

// RoundTrip implements http.RoundTripper.
func (t *h1Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	check := !replayable(req) // what cannot be sent twice goes on a connection known to be open
	for try := 0; ; try++ {
		c, reused, err := t.get(ctx, check)
		if err != nil {
			return nil, ctxErr(ctx, err)
		}
		res, err := t.exchange(ctx, c, req)
		if err == nil {
			return res, nil
		}
		_ = c.nc.Close()
		if err = ctxErr(ctx, err); !reused || try > 0 || !replayable(req) || ctx.Err() != nil {
			return nil, err
		}
		if req.Body != nil { // send the body again
			body, gerr := req.GetBody()
			if gerr != nil {
				return nil, err
			}
			r := *req
			r.Body = body
			req = &r
		}
	}
}

// get takes the most recently used idle connection, or dials one. With
// check, an idle connection is first looked at for a close by the backend
// (a system call; a call that may be sent again finds out by trying).
func (t *h1Transport) get(ctx context.Context, check bool) (c *h1Conn, reused bool, err error) {
	for {
		now := time.Now()
		t.mu.Lock()
		if len(t.idle) == 0 {
			t.mu.Unlock()
			break
		}
		c = t.idle[len(t.idle)-1]
		t.idle = t.idle[:len(t.idle)-1]
		t.mu.Unlock()
		if now.Sub(c.idleAt) < t.idleTimeout && (!check || !closedByPeer(c.nc)) {
			return c, true, nil
		}
		_ = c.nc.Close()
	}
	nc, err := t.dialer.DialContext(ctx, "tcp", t.addr)
	if err != nil {
		return nil, false, err
	}
	return &h1Conn{nc: nc, br: bufio.NewReader(nc), bw: bufio.NewWriter(nc)}, false, nil
}

// put keeps c for the next call, unless enough are kept already.
func (t *h1Transport) put(c *h1Conn) {
	c.idleAt = time.Now()
	t.mu.Lock()
	if len(t.idle) < t.maxIdle {
		t.idle = append(t.idle, c)
		c = nil
	}
	t.mu.Unlock()
	if c != nil {
		_ = c.nc.Close()
	}
}

// CloseIdleConnections closes the connections kept for later calls.
func (t *h1Transport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle = nil
	t.mu.Unlock()
	for _, c := range idle {
		_ = c.nc.Close()
	}
}

// aLongTimeAgo is a deadline that has passed: it ends any read or write.
var aLongTimeAgo = time.Unix(1, 0)

// exchange writes req on c and reads the answer's headers; the body is
// read through the returned Response, which gives c back when it is read
// to its end.
func (t *h1Transport) exchange(ctx context.Context, c *h1Conn, req *http.Request) (*http.Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { _ = c.nc.SetDeadline(aLongTimeAgo) })
	// The context's deadline, when sooner, bounds the wait for the headers.
	bounded := false
	if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > t.headerTimeout {
		if err := c.nc.SetDeadline(time.Now().Add(t.headerTimeout)); err != nil {
			stop()
			return nil, err
		}
		bounded = true
	}
	if err := req.Write(c.bw); err != nil {
		stop()
		return nil, err
	}
	if err := c.bw.Flush(); err != nil {
		stop()
		return nil, err
	}
	var res *http.Response
	for {
		var err error
		if res, err = http.ReadResponse(c.br, req); err != nil {
			stop()
			return nil, err
		}
		// 1xx answers (Early Hints) come before the real one.
		if res.StatusCode >= 200 || res.StatusCode == http.StatusSwitchingProtocols {
			break
		}
		_ = res.Body.Close()
	}
	// The body is bounded by the context alone. Had the context ended
	// before this, its deadline in the past would now be lifted: look.
	if bounded {
		if err := c.nc.SetDeadline(time.Time{}); err != nil || ctx.Err() != nil {
			stop()
			_ = res.Body.Close()
			return nil, ctxErr(ctx, err)
		}
	}
	b := &h1Body{rc: res.Body, c: c, t: t, stop: stop, ctx: ctx, keep: !res.Close && !req.Close}
	res.Body = b
	if res.ContentLength == 0 || req.Method == http.MethodHead {
		b.done(true)
	}
	return res, nil
}

// h1Body is an answer's body: read to its end, it gives the connection
// back; closed before, it closes the connection.
type h1Body struct {
	rc   io.ReadCloser
	c    *h1Conn
	t    *h1Transport
	stop func() bool
	ctx  context.Context
	keep bool

	mu       sync.Mutex
	released bool
}

func (b *h1Body) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	switch {
	case err == io.EOF:
		b.done(true)
	case err != nil:
		b.done(false)
		err = ctxErr(b.ctx, err)
	}
	return n, err
}

func (b *h1Body) Close() error {
	b.done(false)
	return nil
}

// done releases the connection once: back to the idle ones when the body
// was read to its end, the connection may be kept and the context did not
// end meanwhile (its deadline would be in the past); closed otherwise.
func (b *h1Body) done(atEOF bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.released {
		return
	}
	b.released = true
	if b.stop() && atEOF && b.keep {
		b.t.put(b.c)
		return
	}
	_ = b.c.nc.Close()
	_ = b.rc.Close()
}

// ctxErr is the context's error once it has ended (the connection's
// deadline was set to end the call), else err.
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("%w (%w)", cerr, err)
	}
	return err
}

// replayable reports whether req may be sent again after its connection
// failed: net/http's rule (an idempotent method, or an Idempotency-Key),
// with a body only when it can be made again.
func replayable(req *http.Request) bool {
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return false
	}
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	_, key := req.Header["Idempotency-Key"]
	_, xkey := req.Header["X-Idempotency-Key"]
	return key || xkey
}

var _ http.RoundTripper = (*h1Transport)(nil)
