package load

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// newHTTPClient is the pool every shopper shares: keep-alive, as many idle
// connections as requests may be in flight, and no cap on connections
// unless maxConns asks for one.
func newHTTPClient(cfg Config) *http.Client {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        cfg.MaxInFlight,
		MaxIdleConnsPerHost: cfg.MaxInFlight,
		MaxConnsPerHost:     cfg.MaxConns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &http.Client{Transport: tr, Timeout: cfg.Timeout}
}

// client is one session at the gateway: a shopper or the admin.
type client struct {
	base  string
	hc    *http.Client
	token string
}

// answer is one request's outcome and its clock readings.
type answer struct {
	status int
	body   []byte
	err    error
	start  time.Time // the request was about to be made
	sent   time.Time // it had a connection: the bytes go out now
	done   time.Time // the whole answer was read, or the request failed
}

func (a answer) ok() bool { return a.err == nil && a.status/100 == 2 }

// service is the time from the send to the answer.
func (a answer) service() time.Duration { return a.done.Sub(a.sent) }

// do sends one request. Every answer is read to its end: the request is
// only over when it has arrived, and the connection is reused only then.
func (c *client) do(ctx context.Context, method, path string, hdr map[string]string, body []byte) answer {
	a := answer{start: time.Now()}
	var gotConn atomic.Int64 // nanoseconds after start; 0 until the connection is had
	trace := &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) {
		gotConn.CompareAndSwap(0, int64(max(time.Since(a.start), 1)))
	}}
	ctx = httptrace.WithClientTrace(ctx, trace)
	a.status, a.body, a.err = c.roundTrip(ctx, method, path, hdr, body)
	a.done = time.Now()
	a.sent = a.start
	if d := gotConn.Load(); d > 0 {
		a.sent = a.start.Add(time.Duration(d))
	}
	return a
}

func (c *client) roundTrip(ctx context.Context, method, path string, hdr map[string]string, body []byte) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return resp.StatusCode, b, err
}

// call sends JSON and decodes a 2xx answer into out (when not nil); it is
// for setting up, where an error stops the run.
func (c *client) call(ctx context.Context, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	a := c.do(ctx, method, path, nil, body)
	if !a.ok() {
		return fmt.Errorf("%s %s: %s", method, path, describe(a))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(a.body, out); err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	return nil
}

// login starts a session for user.
func login(ctx context.Context, base string, hc *http.Client, user, password string) (*client, error) {
	c := &client{base: strings.TrimRight(base, "/"), hc: hc}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := c.call(ctx, http.MethodPost, "/api/v1/auth/login", map[string]string{"username": user, "password": password}, &tok); err != nil {
		return nil, fmt.Errorf("log in as %s: %w", user, err)
	}
	if tok.AccessToken == "" {
		return nil, fmt.Errorf("log in as %s: no access token in the answer", user)
	}
	c.token = tok.AccessToken
	return c, nil
}

// errorKind names what went wrong with a failed answer: "timeout",
// "connection refused", "HTTP 503 not-caught-up", … (the problem type's
// last segment when the body is application/problem+json).
func errorKind(a answer) string {
	if a.err != nil {
		var ne net.Error
		switch {
		case errors.Is(a.err, context.DeadlineExceeded), errors.As(a.err, &ne) && ne.Timeout():
			return "timeout"
		case errors.Is(a.err, context.Canceled):
			return "cancelled"
		case errors.Is(a.err, syscall.ECONNREFUSED):
			return "connection refused"
		case errors.Is(a.err, syscall.ECONNRESET), errors.Is(a.err, io.EOF), errors.Is(a.err, io.ErrUnexpectedEOF):
			return "connection reset"
		}
		return "transport error"
	}
	kind := fmt.Sprintf("HTTP %d", a.status)
	var p struct {
		Type string `json:"type"`
	}
	// Only the first JSON value: an answer that carries more after it is
	// still classified by its problem.
	if json.NewDecoder(bytes.NewReader(a.body)).Decode(&p) == nil && p.Type != "" && p.Type != "about:blank" {
		kind += " " + p.Type[strings.LastIndex(p.Type, "/")+1:]
	}
	return kind
}

// describe is a failed answer for an error message.
func describe(a answer) string {
	if a.err != nil {
		return a.err.Error()
	}
	b := bytes.Join(bytes.Fields(a.body), []byte(" "))
	if len(b) > 160 {
		b = append(b[:160:160], "…"...)
	}
	return strings.TrimSpace(fmt.Sprintf("%d %s", a.status, b))
}
