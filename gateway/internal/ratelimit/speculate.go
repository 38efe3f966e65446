package ratelimit

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// A safe read (GET or HEAD on a route that opts in with
// Options.Speculate) whose decision needs a round trip to Redis does not
// wait for it: the handler (its call to the backend) starts at once, beside
// the decision, and its answer is held back until the decision is in.
// Admitted, the answer goes out as it would have; rejected, the handler's
// context is cancelled (cutting the backend call short), whatever it
// wrote is thrown away and the client gets the same 429 it gets today.
// The handler's reads are safe and retried as idempotent already, so a
// call whose answer is dropped changes nothing.
//
// Only a caller whose last known decision on this instance left at least
// half its burst, counting the speculative requests of its still in
// flight, is read ahead: a caller near, at or over its limit waits for its
// decision first and never reaches the backend before it is admitted.

// margin is what this instance last learned of one key.
type margin struct {
	// left is the remaining count of the key's last decision (0 after a
	// rejection); inflight counts its speculative requests not decided yet.
	left, inflight int
	at             time.Time
}

type margins struct {
	mu        sync.Mutex
	byKey     map[string]*margin
	nextSweep time.Time
}

// record keeps the remaining count of a decision on key.
func (ms *margins) record(key string, r Result, now time.Time) {
	left := 0
	if r.Allowed {
		left = r.Remaining
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()
	m := ms.byKey[key]
	if m == nil {
		ms.sweep(now)
		m = &margin{}
		ms.byKey[key] = m
	}
	m.left, m.at = left, now
}

// reserve reports whether every claim's key has at least half its burst
// left, counting the speculative requests in flight, and if so counts this
// one in flight for each (release undoes it).
func (ms *margins) reserve(cs []claim) bool {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	for _, c := range cs {
		m := ms.byKey[c.k]
		if m == nil || 2*(m.left-m.inflight) < c.p.Burst {
			return false
		}
	}
	for _, c := range cs {
		ms.byKey[c.k].inflight++
	}
	return true
}

// release ends the speculative requests reserve counted.
func (ms *margins) release(cs []claim) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	for _, c := range cs {
		if m := ms.byKey[c.k]; m != nil && m.inflight > 0 {
			m.inflight--
		}
	}
}

// sweep forgets the keys not decided for a second with nothing in flight,
// at most once a second, once there are many; the caller holds mu.
func (ms *margins) sweep(now time.Time) {
	if len(ms.byKey) < sweepAt || now.Before(ms.nextSweep) {
		return
	}
	ms.nextSweep = now.Add(time.Second)
	for k, m := range ms.byKey {
		if m.inflight == 0 && now.Sub(m.at) > time.Second {
			delete(ms.byKey, k)
		}
	}
}

// errRejected cancels a speculative handler whose request the limit
// rejected.
var errRejected = errors.New("rate limit rejected the request")

// speculate runs next while rest (the claims that need Redis) is decided,
// and answers as the decision says (see finish). reserve has counted the
// request in flight.
func (l *Limiter) speculate(c echo.Context, next echo.HandlerFunc, cs, rest []claim, o Options, r *route) error {
	req := c.Request()
	ctx, cancel := context.WithCancelCause(req.Context())
	defer cancel(nil)
	done := make(chan error, 1)
	go func() {
		err := l.remote(req.Context(), rest, o.Timeout)
		l.margins.release(rest)
		if err == nil && !admittedAll(rest) {
			cancel(errRejected)
		}
		done <- err
	}()

	resp := c.Response()
	held := resp.Header().Clone()
	buf := &heldWriter{w: resp.Writer}
	resp.Writer = buf
	c.SetRequest(req.WithContext(ctx))
	herr := next(c)
	c.SetRequest(req)
	resp.Writer = buf.w
	err := <-done

	if err != nil && o.Mode(c) == FailOpen {
		o.Log.WarnContext(req.Context(), "rate limiter unavailable; admitting (fail-open)", "policy", policyNames(rest), "err", err)
		r.addHeaders(resp.Header(), cs)
		return buf.release(herr)
	}
	if err != nil || !admittedAll(rest) {
		// Nothing of the handler's answer goes out: the headers are what
		// they were before it ran.
		h := resp.Header()
		clear(h)
		for k, v := range held {
			h[k] = v
		}
		resp.Committed, resp.Status, resp.Size = false, http.StatusOK, 0
		return r.answer(c, cs, err, o, nil)
	}
	r.addHeaders(resp.Header(), cs)
	return buf.release(herr)
}

// admittedAll reports whether every claim was decided and admitted.
func admittedAll(cs []claim) bool {
	for _, c := range cs {
		if !c.decided || !c.res.Allowed {
			return false
		}
	}
	return true
}

func policyNames(cs []claim) string {
	s := ""
	for i, c := range cs {
		if i > 0 {
			s += ","
		}
		s += c.p.Name
	}
	return s
}

// heldWriter holds a speculative handler's answer: its headers go to the
// real writer's header map (sent only when the answer is), its status and
// body are kept here.
type heldWriter struct {
	w      http.ResponseWriter
	status int
	body   []byte
}

func (b *heldWriter) Header() http.Header         { return b.w.Header() }
func (b *heldWriter) WriteHeader(status int)      { b.status = status }
func (b *heldWriter) Write(p []byte) (int, error) { b.body = append(b.body, p...); return len(p), nil }

// Flush does nothing: the answer goes out whole once admitted.
func (b *heldWriter) Flush() {}

// release sends what the handler wrote, if anything, and returns its error
// (for the error handler when it wrote nothing).
func (b *heldWriter) release(herr error) error {
	if b.status == 0 {
		return herr
	}
	b.w.WriteHeader(b.status)
	if len(b.body) > 0 {
		if _, err := b.w.Write(b.body); err != nil {
			return errors.Join(herr, err)
		}
	}
	return herr
}
