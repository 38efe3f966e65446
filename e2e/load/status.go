package load

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// StatusStats sums up the samples of GET /api/v1/admin/status.
type StatusStats struct {
	Samples, Failed int
	LastError       string
	// Lag is the projection lag in events: the largest count of events a
	// projection still had to apply, as the status reports it. LagSamples
	// counts the samples that carried one (none while the gateway does
	// not expose it).
	LagSamples     int
	LagMax, LagSum int64
	// Running is the number of sagas in flight (the order service's saga
	// statistics), a measure of the backlog behind the placements.
	RunningSamples                        int
	RunningFirst, RunningMax, RunningLast int64
}

// LagMean is the mean of the lag samples.
func (s StatusStats) LagMean() float64 {
	if s.LagSamples == 0 {
		return 0
	}
	return float64(s.LagSum) / float64(s.LagSamples)
}

// sampleStatus reads admin status every interval until ctx ends.
func sampleStatus(ctx context.Context, admin *client, rec *recorder, interval time.Duration) {
	if interval <= 0 {
		return
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		rctx, cancel := context.WithTimeout(ctx, max(interval, 2*time.Second))
		a := admin.do(rctx, http.MethodGet, "/api/v1/admin/status", nil, nil)
		cancel()
		if ctx.Err() != nil {
			return
		}
		rec.own(KindStatus, a)
		rec.statusSample(a)
	}
}

// statusSample records one sample's figures.
func (r *recorder) statusSample(a answer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := &r.status
	st.Samples++
	if !a.ok() {
		st.Failed++
		st.LastError = describe(a)
		return
	}
	lag, lagOK, running, runningOK := parseStatus(a.body)
	s := r.second(a.done)
	if lagOK {
		st.LagSamples++
		st.LagSum += lag
		st.LagMax = max(st.LagMax, lag)
		r.lastLag = lag
		if s != nil {
			s.Lag = max(s.Lag, lag)
		}
	}
	if runningOK {
		if st.RunningSamples == 0 {
			st.RunningFirst = running
		}
		st.RunningSamples++
		st.RunningMax = max(st.RunningMax, running)
		st.RunningLast = running
		r.lastRunning = running
		if s != nil {
			s.Running = max(s.Running, running)
		}
	}
}

// parseStatus takes the projection lag and the running sagas from an admin
// status body. The lag is the largest number found under "projections" in
// a field named lag, lag_events, events, pending or behind, whatever the
// nesting (per service, per projection); none while the status says the
// lag is unknown.
func parseStatus(body []byte) (lag int64, lagOK bool, running int64, runningOK bool) {
	var st struct {
		Projections any `json:"projections"`
		Sagas       struct {
			Running *int64 `json:"running"`
		} `json:"sagas"`
	}
	if json.Unmarshal(body, &st) != nil {
		return 0, false, 0, false
	}
	lag, lagOK = largestLag(st.Projections)
	if st.Sagas.Running != nil {
		running, runningOK = *st.Sagas.Running, true
	}
	return lag, lagOK, running, runningOK
}

// lagFields are the names a lag figure goes by.
var lagFields = map[string]bool{"lag": true, "lag_events": true, "events": true, "pending": true, "behind": true}

func largestLag(v any) (int64, bool) {
	var best int64
	found := false
	take := func(n int64, ok bool) {
		if ok && (!found || n > best) {
			best, found = n, true
		}
	}
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if f, isNum := x.(float64); isNum && lagFields[k] {
				take(int64(f), true)
				continue
			}
			take(largestLag(x))
		}
	case []any:
		for _, x := range v {
			take(largestLag(x))
		}
	}
	return best, found
}
