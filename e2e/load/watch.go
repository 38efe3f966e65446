package load

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// account is one customer login: the orders placed under it that the
// generator waits on, and the orders its read model has shown (which
// order views may read without risking a 404 for an order not yet
// projected).
type account struct {
	name    string
	session *client // the watcher's own session
	mu      sync.Mutex
	pending map[string]time.Time // order id → due time of the arrival that placed it
	visible []string             // a ring of order ids
	next    int
}

const visibleRing = 256

func newAccount(name string, session *client) *account {
	return &account{name: name, session: session, pending: map[string]time.Time{}}
}

func (a *account) track(id string, due time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.pending[id] = due
}

// show remembers an order the read model has shown.
func (a *account) show(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.visible) < visibleRing {
		a.visible = append(a.visible, id)
		return
	}
	a.visible[a.next] = id
	a.next = (a.next + 1) % visibleRing
}

// pick is one visible order chosen by r, or false when there is none.
func (a *account) pick(r uint64) (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.visible) == 0 {
		return "", false
	}
	return a.visible[r%uint64(len(a.visible))], true
}

// oldest is the earliest due time among the pending orders.
func (a *account) oldest() (time.Time, int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var t time.Time
	for _, due := range a.pending {
		if t.IsZero() || due.Before(t) {
			t = due
		}
	}
	return t, len(a.pending)
}

// resolve takes id off the pending orders, reporting its due time.
func (a *account) resolve(id string) (time.Time, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	due, ok := a.pending[id]
	delete(a.pending, id)
	return due, ok
}

// count is how many pending orders keep returns true for.
func (a *account) count(keep func(due time.Time) bool) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, due := range a.pending {
		if keep(due) {
			n++
		}
	}
	return n
}

// listed is one order of GET /api/v1/orders.
type listed struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	Reason    string    `json:"reason"`
	PlacedAt  time.Time `json:"placed_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// maxWatchPages bounds one poll of one account.
const maxWatchPages = 20

// watch polls every account's order list each interval until ctx ends,
// recording the outcome of each pending order when the list first shows it
// confirmed or cancelled.
func watch(ctx context.Context, accounts []*account, rec *recorder, interval time.Duration) {
	var wg sync.WaitGroup
	for _, acc := range accounts {
		wg.Go(func() {
			tick := time.NewTicker(interval)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
					pollAccount(ctx, acc, rec)
				}
			}
		})
	}
	wg.Wait()
}

// pollAccount reads the account's orders, newest first, until it has seen
// every pending one or passed the oldest (an order is listed by its placed
// time, never earlier than the arrival's due time).
func pollAccount(ctx context.Context, acc *account, rec *recorder) {
	oldest, n := acc.oldest()
	if n == 0 {
		return
	}
	cursor := ""
	for range maxWatchPages {
		path := "/api/v1/orders?limit=100"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		a := acc.session.do(ctx, http.MethodGet, path, nil, nil)
		if ctx.Err() != nil {
			return
		}
		rec.own(KindWatch, a)
		var page struct {
			Items      []listed `json:"items"`
			NextCursor *string  `json:"next_cursor"`
		}
		if !a.ok() || json.Unmarshal(a.body, &page) != nil {
			return
		}
		for _, o := range page.Items {
			acc.show(o.ID)
			if o.Status != "confirmed" && o.Status != "cancelled" {
				continue
			}
			if due, ok := acc.resolve(o.ID); ok {
				rec.outcome(due, o.Status, o.Reason, o.UpdatedAt, a.done)
			}
		}
		if page.NextCursor == nil || *page.NextCursor == "" || len(page.Items) == 0 {
			return
		}
		if _, left := acc.oldest(); left == 0 || page.Items[len(page.Items)-1].PlacedAt.Before(oldest.Add(-2*time.Second)) {
			return
		}
		cursor = *page.NextCursor
	}
}
