package parkapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/eventstore/postgres"
	"github.com/ordo-platform/ordo/pkg/park"
	"github.com/ordo-platform/ordo/pkg/park/parkapi"
	"github.com/ordo-platform/ordo/pkg/testenv"
	"github.com/ordo-platform/ordo/pkg/web"
)

var secret = []byte("test-secret")

func call(t *testing.T, srv *httptest.Server, method, path, role string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if role != "" {
		req.Header.Set(web.HeaderIdentity, web.SignIdentity(secret, web.Identity{User: "op", Role: role}, time.Now()))
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// fixable is a handler that refuses every event until fixed.
type fixable struct{ fixed atomic.Bool }

func (f *fixable) handle(context.Context, es.Event) error {
	if !f.fixed.Load() {
		return es.Permanent(errors.New("cannot process this item"))
	}
	return nil
}

func TestAdminRoutes(t *testing.T) {
	quiet := slog.New(slog.DiscardHandler)
	store, err := postgres.Open(t.Context(), testenv.Database(t), postgres.Options{Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	lot := park.New(store, park.NewPostgres(store.Pool()), park.Options{Log: quiet})
	f := &fixable{}
	h := lot.Handler(park.Subscriber{Name: "worker", Handle: f.handle})
	if _, err := store.Append(t.Context(), "item-1", es.NoStream, es.EventData{Type: "item.added", Data: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	events, err := store.ReadStream(t.Context(), "item-1", es.Forwards, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := h(t.Context(), events[0]); err != nil {
		t.Fatalf("the handler should park the event and return nil: %v", err)
	}
	id := park.EntryID("worker", events[0].ID).String()

	api := web.New(web.Options{Log: quiet})
	parkapi.Mount(api, lot, web.RequireIdentity(secret), web.RequireRole(web.RoleAdmin))
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)

	if code, _ := call(t, srv, "GET", "/admin/parked", ""); code != http.StatusUnauthorized {
		t.Errorf("without identity: %d, want 401", code)
	}
	if code, _ := call(t, srv, "GET", "/admin/parked", web.RoleCustomer); code != http.StatusForbidden {
		t.Errorf("as a customer: %d, want 403", code)
	}
	code, body := call(t, srv, "GET", "/admin/parked", web.RoleAdmin)
	var list struct {
		Counts  park.Counts  `json:"counts"`
		Entries []park.Entry `json:"entries"`
	}
	if err := json.Unmarshal(body, &list); err != nil || code != http.StatusOK {
		t.Fatalf("list: %d %s (%v)", code, body, err)
	}
	if list.Counts.Parked != 1 || len(list.Entries) != 1 || list.Entries[0].ID.String() != id || list.Entries[0].Stream != "item-1" {
		t.Fatalf("list = %+v, want entry %s", list, id)
	}
	if code, body := call(t, srv, "GET", "/admin/parked/count", web.RoleAdmin); code != http.StatusOK || !strings.Contains(string(body), `"parked":1`) {
		t.Errorf("count: %d %s", code, body)
	}
	if code, body := call(t, srv, "GET", "/admin/parked/"+id, web.RoleAdmin); code != http.StatusOK || !strings.Contains(string(body), `"status":"parked"`) {
		t.Errorf("get: %d %s", code, body)
	}
	if code, body := call(t, srv, "POST", "/admin/parked/"+id+"/replay", web.RoleAdmin); code != http.StatusUnprocessableEntity || !strings.Contains(string(body), "cannot process this item") {
		t.Errorf("replay before the fix: %d %s, want 422 with the handler's error", code, body)
	}
	f.fixed.Store(true)
	code, body = call(t, srv, "POST", "/admin/parked/"+id+"/replay", web.RoleAdmin)
	var res park.Result
	if err := json.Unmarshal(body, &res); err != nil || code != http.StatusOK || res.Entry.Status != park.Replayed || len(res.Replayed) != 1 {
		t.Fatalf("replay after the fix: %d %s (%v)", code, body, err)
	}
	if code, body := call(t, srv, "GET", "/admin/parked?status=replayed", web.RoleAdmin); code != http.StatusOK || !strings.Contains(string(body), id) {
		t.Errorf("list replayed: %d %s", code, body)
	}
	for path, want := range map[string]int{
		"/admin/parked/not-a-uuid/replay":                           http.StatusBadRequest,
		"/admin/parked/5b1e8c1e-6d3e-4f0a-9a43-1d2b3c4d5e6f/replay": http.StatusNotFound,
	} {
		if code, body := call(t, srv, "POST", path, web.RoleAdmin); code != want {
			t.Errorf("POST %s: %d %s, want %d", path, code, body, want)
		}
	}
	if code, _ := call(t, srv, "GET", "/admin/parked?status=lost", web.RoleAdmin); code != http.StatusBadRequest {
		t.Errorf("bad status filter: %d, want 400", code)
	}
}
