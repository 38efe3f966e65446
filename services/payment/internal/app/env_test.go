package app_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ordo-platform/ordo/pkg/es"
	"github.com/ordo-platform/ordo/pkg/platform"
	"github.com/ordo-platform/ordo/pkg/testenv"
	"github.com/ordo-platform/ordo/services/payment"
	"github.com/ordo-platform/ordo/services/payment/internal/app"
	"github.com/ordo-platform/ordo/services/payment/internal/provider"
	"github.com/ordo-platform/ordo/services/payment/internal/providersim"
)

// env is one test's world: a fresh event store, a simulator and the service.
type env struct {
	store es.Store
	repo  *es.Repository[payment.Payment]
	sim   *providersim.Sim
	srv   *httptest.Server
	prov  *provider.Client
	svc   *app.Service
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newEnv(t *testing.T, seed uint64, f providersim.Faults, o provider.Options) *env {
	t.Helper()
	ctx := context.Background()
	store, closeStore, err := platform.OpenStore(ctx, testenv.Database(t), quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeStore)
	sim, err := providersim.New(providersim.Options{Seed: seed, Faults: f})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler(quiet))
	t.Cleanup(func() { sim.Close(); srv.Close() })
	if o.Backoff == 0 {
		o.Backoff = 5 * time.Millisecond
	}
	o.Seed = seed
	prov, err := provider.New(srv.URL, o)
	if err != nil {
		t.Fatal(err)
	}
	reg := es.NewRegistry()
	payment.Register(reg)
	return &env{store: store, repo: es.NewRepository(store, reg, payment.Aggregate, 0), sim: sim, srv: srv, prov: prov,
		svc: app.New(store, reg, prov, quiet)}
}

func (e *env) load(t *testing.T, orderID string) payment.Payment {
	t.Helper()
	snap, err := e.repo.Load(context.Background(), orderID)
	if err != nil {
		t.Fatal(err)
	}
	return snap.State
}

func (e *env) faults(t *testing.T, f providersim.Faults) {
	t.Helper()
	if err := e.sim.SetFaults(f); err != nil {
		t.Fatal(err)
	}
}

// types lists the event types of the order's payment stream.
func (e *env) types(t *testing.T, orderID string) []string {
	t.Helper()
	events, err := e.store.ReadStream(context.Background(), e.repo.StreamID(orderID), es.Forwards, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(events))
	for i, ev := range events {
		out[i] = ev.Type
	}
	return out
}

func newServer(t *testing.T, sim *providersim.Sim) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(sim.Handler(quiet))
	t.Cleanup(func() { sim.Close(); srv.Close() })
	return srv
}
