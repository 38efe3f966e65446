package upstream

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// With the breaker disabled every call reaches the backend, however many
// fail, and the state says so.
func TestDisabledBreakerNeverOpens(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls++
		w.WriteHeader(http.StatusInternalServerError)
	}))
	t.Cleanup(srv.Close)
	for _, off := range []bool{false, true} {
		calls = 0
		c, err := New(Options{Name: "x", BaseURL: srv.URL, Retries: -1, Breaker: BreakerOptions{Failures: 2, Disabled: off}})
		if err != nil {
			t.Fatal(err)
		}
		for range 10 {
			_, _ = c.Do(t.Context(), Request{Method: http.MethodGet, Path: "/"})
		}
		switch {
		case off && (calls != 10 || c.Breaker().State() != StateDisabled):
			t.Errorf("disabled: %d calls reached the backend, state %s; want 10, disabled", calls, c.Breaker().State())
		case !off && (calls != 2 || c.Breaker().State() != "open"):
			t.Errorf("enabled: %d calls reached the backend, state %s; want 2, open", calls, c.Breaker().State())
		}
	}
}
