package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/eventstore/postgres"
	"github.com/ordo-platform/ordo/pkg/park"
	"github.com/ordo-platform/ordo/pkg/park/parkapi"
	"github.com/ordo-platform/ordo/pkg/testenv"
	"github.com/ordo-platform/ordo/pkg/web"
)

const secret = "admin-test-secret"

// serve runs a service-like admin API over lot.
func serve(t *testing.T, lot *park.Lot) string {
	t.Helper()
	e := web.New(web.Options{Log: slog.New(slog.DiscardHandler)})
	parkapi.Mount(e, lot, web.RequireIdentity([]byte(secret)), web.RequireRole(web.RoleAdmin))
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv.URL
}

// runAdmin runs the command with args and returns its output.
func runAdmin(t *testing.T, services string, args ...string) (string, error) {
	t.Helper()
	var out strings.Builder
	getenv := func(k string) string {
		return map[string]string{"ORDO_ADMIN_SERVICES": services, "ORDO_ADMIN_IDENTITY_SECRET": secret}[k]
	}
	err := run(t.Context(), args, getenv, &out)
	return out.String(), err
}

func TestParkedListShowReplay(t *testing.T) {
	quiet := slog.New(slog.DiscardHandler)
	store, err := postgres.Open(t.Context(), testenv.Database(t), postgres.Options{Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	var fixed atomic.Bool
	owner := park.New(store, park.NewPostgres(store.Pool()), park.Options{Log: quiet})
	h := owner.Handler(park.Subscriber{Name: "worker", Handle: func(context.Context, es.Event) error {
		if !fixed.Load() {
			return es.Permanent(errors.New("cannot process this item"))
		}
		return nil
	}})
	other := park.New(store, park.NewPostgres(store.Pool()), park.Options{Log: quiet})
	other.Handler(park.Subscriber{Name: "someone-else", Handle: func(context.Context, es.Event) error { return nil }})
	if _, err := store.Append(t.Context(), "item-1", es.NoStream, es.EventData{Type: "item.added", Data: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	events, err := store.ReadStream(t.Context(), "item-1", es.Forwards, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := h(t.Context(), events[0]); err != nil {
		t.Fatal(err)
	}
	id := park.EntryID("worker", events[0].ID).String()
	services := "first=" + serve(t, other) + ",second=" + serve(t, owner)

	out, err := runAdmin(t, services, "parked", "list")
	if err != nil || !hasRow(out, "second", id, "parked", "worker") || !strings.Contains(out, "cannot process this item") || strings.Contains(out, "first") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	if out, err := runAdmin(t, services, "parked", "show", id); err != nil || !strings.Contains(out, "subscriber:  worker") || !strings.Contains(out, "item-1@0") {
		t.Fatalf("show: %v\n%s", err, out)
	}
	if out, err := runAdmin(t, services, "parked", "replay", id); err == nil || !strings.Contains(err.Error(), "422") || !strings.Contains(err.Error(), "cannot process this item") {
		t.Fatalf("replay before the fix: %v\n%s", err, out)
	}
	fixed.Store(true)
	if out, err := runAdmin(t, services, "parked", "replay", id); err != nil || !strings.Contains(out, "second: replayed "+id) {
		t.Fatalf("replay after the fix: %v\n%s", err, out)
	}
	if out, err := runAdmin(t, services, "parked", "replay", id); err != nil || !strings.Contains(out, "replayed before; nothing ran") {
		t.Fatalf("second replay: %v\n%s", err, out)
	}
	if out, err := runAdmin(t, services, "-all", "parked", "list", "second"); err != nil || !strings.Contains(out, "replayed") {
		t.Fatalf("list -all: %v\n%s", err, out)
	}
	if _, err := runAdmin(t, services, "parked", "replay", es.NewUUID().String()); err == nil || !strings.Contains(err.Error(), "no service has parked entry") {
		t.Fatalf("replay of an unknown id: %v", err)
	}
	if _, err := runAdmin(t, services, "parked", "fly"); err == nil {
		t.Fatal("an unknown command was accepted")
	}
}

// hasRow reports whether a line of the table starts with the fields.
func hasRow(table string, fields ...string) bool {
	for _, line := range strings.Split(table, "\n") {
		f := strings.Fields(line)
		if len(f) >= len(fields) && strings.Join(f[:len(fields)], " ") == strings.Join(fields, " ") {
			return true
		}
	}
	return false
}
