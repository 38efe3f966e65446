package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// target is one URL to measure.
type target struct {
	Name, URL string
}

// result is one target's measurement.
type result struct {
	target
	OK, Errors int
	Elapsed    time.Duration
	// Latencies of the successful requests, sorted ascending by finish.
	Latencies []time.Duration
	// FirstError describes one failure, for the reader.
	FirstError string
}

// Throughput is successful requests per second.
func (r result) Throughput() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.OK) / r.Elapsed.Seconds()
}

// Percentile is the q-quantile (0..1) of the sorted latencies by the
// nearest-rank method: every sample is kept, so nothing is approximated.
func (r result) Percentile(q float64) time.Duration {
	return percentile(r.Latencies, q)
}

func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(q*float64(len(sorted)) + 0.999999999) // ceil without float noise at exact ranks
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// add merges another measurement of the same target into r; finish sorts
// the latencies once every part is in.
func (r *result) add(o result) {
	r.target = o.target
	r.OK += o.OK
	r.Errors += o.Errors
	r.Elapsed += o.Elapsed
	r.Latencies = append(r.Latencies, o.Latencies...)
	if r.FirstError == "" {
		r.FirstError = o.FirstError
	}
}

func (r *result) finish() { slices.Sort(r.Latencies) }

// loader sends GETs in a closed loop: each of n workers sends its next
// request as soon as the last one answered.
type loader struct {
	client      *http.Client
	concurrency int
}

func newLoader(concurrency int, timeout time.Duration) *loader {
	tr := &http.Transport{
		MaxIdleConns: concurrency * 2, MaxIdleConnsPerHost: concurrency * 2, MaxConnsPerHost: concurrency * 2,
		IdleConnTimeout: 90 * time.Second, DisableCompression: true,
	}
	return &loader{client: &http.Client{Transport: tr, Timeout: timeout}, concurrency: concurrency}
}

// measure warms t up (unmeasured), then measures it for d.
func (l *loader) measure(ctx context.Context, t target, warmup, d time.Duration) (result, error) {
	if warmup > 0 {
		if _, err := l.loop(ctx, t, warmup); err != nil {
			return result{}, err
		}
	}
	return l.loop(ctx, t, d)
}

// worker is one loop's own tally, merged at the end (no shared locks on
// the hot path).
type worker struct {
	ok, errors int
	lat        []time.Duration
	firstErr   string
}

func (l *loader) loop(ctx context.Context, t target, d time.Duration) (result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	deadline := start.Add(d)
	ws := make([]worker, l.concurrency)
	var wg sync.WaitGroup
	for i := range ws {
		wg.Go(func() { l.work(ctx, t.URL, deadline, &ws[i]) })
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return result{}, err
	}
	res := result{target: t, Elapsed: time.Since(start)}
	for _, w := range ws {
		res.OK += w.ok
		res.Errors += w.errors
		res.Latencies = append(res.Latencies, w.lat...)
		if res.FirstError == "" {
			res.FirstError = w.firstErr
		}
	}
	return res, nil
}

func (l *loader) work(ctx context.Context, url string, deadline time.Time, w *worker) {
	w.lat = make([]time.Duration, 0, 4096)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		t0 := time.Now()
		status, err := l.get(ctx, url)
		took := time.Since(t0)
		switch {
		case err == nil && status == http.StatusOK:
			w.ok++
			w.lat = append(w.lat, took)
		default:
			w.errors++
			if w.firstErr == "" {
				w.firstErr = describe(status, err)
			}
		}
	}
}

func (l *loader) get(ctx context.Context, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	res, err := l.client.Do(req)
	if err != nil {
		return 0, err
	}
	// Read the whole body: the answer is only complete when it has arrived,
	// and the connection is reused only after it.
	_, err = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	return res.StatusCode, err
}

func describe(status int, err error) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("answered %d %s", status, http.StatusText(status))
}
