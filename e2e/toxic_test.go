package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ordo-platform/ordo/audit"
	"github.com/ordo-platform/ordo/launcher"
)

// Knobs of the fault scenarios. ORDO_TOXIC_SEED replays one seed in every
// scenario (pick one with -run 'TestToxicScenarios/links'); ORDO_TOXIC_SEEDS
// sets how many random seeds each scenario runs; ORDO_TOXIC_PARALLEL how
// many of a scenario's seeds run at once, each on its own platform (1 for
// a readable log); ORDO_TOXIC_RATE is each seed's orders per second. Each
// scenario has its own duration knobs beside its code.
const (
	defaultToxicSeeds = 3
	// Two platforms at once, not three: each holds about 25 PostgreSQL
	// connections under load, and the server's default max_connections is
	// 100, shared with the other packages' tests.
	defaultToxicParallel = 2
	defaultToxicRate     = 5
)

// toxicScenario is one kind of fault the platform must ride out.
type toxicScenario struct {
	name string
	env  func(t *testing.T) // settings for the scenario's platforms (t.Setenv), or nil
	run  func(t *testing.T, r *toxicRun)
}

// toxicRun is what one seed of a scenario gets.
type toxicRun struct {
	seed uint64
	rng  *rand.Rand
	rate int
	bins *toxicBins
}

// TestToxicScenarios puts the platform through faults of the things under
// it while orders flow, one scenario at a time, each on several seeds with
// a fresh platform per seed: toxiproxy between the services and PostgreSQL,
// Redis, the payment provider and SMTP (links); Redis killed and started
// again empty (redis-restart); the payment provider slower than payment's
// timeout for a long stretch (slow-provider). Every seed ends with all its
// orders final and the invariant auditor passing.
func TestToxicScenarios(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole platform once per seed and scenario")
	}
	seeds := seedsFrom(t, "TOXIC", defaultToxicSeeds)
	rate := envInt(t, "ORDO_TOXIC_RATE", defaultToxicRate)
	parallel := envInt(t, "ORDO_TOXIC_PARALLEL", defaultToxicParallel)
	setLoadEnv(t)
	bins := &toxicBins{dir: t.TempDir()}
	for _, sc := range []toxicScenario{
		{name: "links", run: toxicLinks},
		{name: "redis-restart", run: toxicRedisRestart},
		{name: "slow-provider", env: toxicSlowEnv, run: toxicSlowProvider},
	} {
		t.Run(sc.name, func(t *testing.T) {
			if sc.env != nil {
				sc.env(t)
			}
			begin := time.Now()
			runSeeds(t, seeds, parallel, fmt.Sprintf("ORDO_TOXIC_SEED=%%d go test -run 'TestToxicScenarios/%s' ./e2e/", sc.name),
				func(t *testing.T, seed uint64) {
					rng := rand.New(rand.NewPCG(seed, seed^0x51ed270b27a5f3c1)) //nolint:gosec // reproducible faults, not crypto
					sc.run(t, &toxicRun{seed: seed, rng: rng, rate: rate, bins: bins})
				})
			t.Logf("scenario %s: %d seeds in %v", sc.name, len(seeds), time.Since(begin).Round(time.Millisecond))
		})
	}
}

// runSeeds runs each seed as a subtest seed=N, at most parallel at once,
// logging the command that replays it (replay holds one %d for the seed)
// and how long it took. Not t.Parallel: go test's -parallel (GOMAXPROCS,
// 2 here) would cap it, and the seeds mostly wait on faults, not on the CPU.
func runSeeds(t *testing.T, seeds []uint64, parallel int, replay string, run func(t *testing.T, seed uint64)) {
	t.Helper()
	var wg sync.WaitGroup
	slots := make(chan struct{}, parallel)
	for _, seed := range seeds {
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
				start := time.Now()
				t.Logf("seed %d (replay with "+replay+")", seed, seed)
				run(t, seed)
				t.Logf("seed %d took %v", seed, time.Since(start).Round(time.Millisecond))
			})
		})
	}
	wg.Wait()
}

// envDuration reads a duration knob such as "20s".
func envDuration(t *testing.T, key string, def time.Duration) time.Duration {
	t.Helper()
	s := os.Getenv(key)
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		t.Fatalf("%s=%q: want a positive duration like 20s", key, s)
	}
	return d
}

// toxicBins is the binary directory the scenarios share: the first start
// builds into it, the later ones reuse it. Starts are one at a time, which
// also keeps the CPU-heavy part of parallel seeds apart.
type toxicBins struct {
	mu    sync.Mutex
	dir   string
	built bool
}

func (b *toxicBins) start(t *testing.T, options ...func(*launcher.Config)) *loadPlatform {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	p := startLoadPlatform(t, b.dir, !b.built, options...)
	b.built = true
	return p
}

// toxicAudit waits until the store is quiet and runs the auditor until it
// finds no violation, or fails the test with the last report once within
// has passed: a fault can leave work to the platform's retries (notify
// retries a mail the SMTP outage refused, seconds later, so a 3 s quiet
// period can end in the middle of a write). Then, as long as an outcome
// still lacks its email (the auditor only warns: notify may be behind), it
// waits and audits again, so every seed checks exactly one email per
// outcome, not only at most one.
func toxicAudit(t *testing.T, p *loadPlatform, within time.Duration) audit.Report {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		rep := p.auditWithin(t, "chaos", time.Until(deadline))
		missing := missingMail(rep)
		if len(missing) == 0 {
			return rep
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d outcomes still without their email %v after quiet: %s", len(missing), within, strings.Join(missing[:min(5, len(missing))], "; "))
		}
		time.Sleep(2 * time.Second)
	}
}

// missingMail lists the auditor's warnings about outcomes without email.
func missingMail(rep audit.Report) []string {
	var out []string
	for _, w := range rep.Warnings {
		if w.Check == audit.CheckEmail && (strings.Contains(w.Detail, "no email") || w.Subject == "mailbox") {
			out = append(out, w.String())
		}
	}
	return out
}

// toxicPhases logs how long each part of a seed took.
type toxicPhases struct {
	last  time.Time
	parts []string
}

func newToxicPhases() *toxicPhases { return &toxicPhases{last: time.Now()} }

func (p *toxicPhases) done(name string) {
	now := time.Now()
	p.parts = append(p.parts, fmt.Sprintf("%s %v", name, now.Sub(p.last).Round(100*time.Millisecond)))
	p.last = now
}

func (p *toxicPhases) String() string { return strings.Join(p.parts, ", ") }
