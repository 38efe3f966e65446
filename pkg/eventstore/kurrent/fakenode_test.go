package kurrent

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/persistent"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/serverfeatures"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc"
)

// fakeNode stands in for one KurrentDB node at the gRPC level, in process:
// it implements the client's own generated server interfaces (streams,
// persistent subscriptions, server features) over an in-memory log, answers
// the way the KurrentDB server documents and implements it, and records
// every request so tests can see what went over the wire.
//
// It exists to test this package's mapping onto the protocol. It is not
// KurrentDB: passing against it proves nothing about a real server; the
// contract suite (TestContract, ORDO_ESDB_URL) does that.
type fakeNode struct {
	mu      sync.Mutex
	log     []fakeRecord // $all, in order
	changed chan struct{}

	tombstoned  map[string]bool
	softDeleted map[string]bool

	appends []capturedAppend
	reads   []*streams.ReadReq

	// Knobs for answers some servers give.
	noIdempotentPosition bool // idempotent replays come back without a position (servers before 24.x)
	subscribeInclusive   bool // a subscription from position p also sends the event at p
	dropAfter            int  // the first subscription is dropped after this many events
	dropped              bool

	groups   map[string]*fakeGroup
	creates  []*persistent.CreateReq
	replays  []*persistent.ReplayParkedReq
	settled  []settlement
	addr     string
	server   *grpc.Server
	serverMu sync.Mutex
}

type fakeRecord struct {
	id              uuid.UUID
	stream, typ     string
	rev             uint64
	commit, prepare uint64
	data, meta      []byte
	created         time.Time
}

type capturedAppend struct {
	options *streams.AppendReq_Options
	events  []*streams.AppendReq_ProposedMessage
}

func startFake(t *testing.T) *fakeNode {
	t.Helper()
	n := &fakeNode{
		changed:     make(chan struct{}),
		tombstoned:  map[string]bool{},
		softDeleted: map[string]bool{},
		groups:      map[string]*fakeGroup{},
	}
	n.listen(t, "127.0.0.1:0")
	return n
}

func (n *fakeNode) listen(t *testing.T, addr string) {
	t.Helper()
	lis, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", addr)
	if err != nil {
		t.Fatalf("fake node: listen %s: %v", addr, err)
	}
	srv := grpc.NewServer()
	streams.RegisterStreamsServer(srv, &fakeStreams{n: n})
	persistent.RegisterPersistentSubscriptionsServer(srv, &fakePersistent{n: n})
	serverfeatures.RegisterServerFeaturesServer(srv, fakeFeatures{})
	go func() { _ = srv.Serve(lis) }()
	n.serverMu.Lock()
	n.server, n.addr = srv, lis.Addr().String()
	n.serverMu.Unlock()
	t.Cleanup(srv.Stop)
}

// stop takes the node off the network, as a server restart does.
func (n *fakeNode) stop() {
	n.serverMu.Lock()
	defer n.serverMu.Unlock()
	n.server.Stop()
}

func (n *fakeNode) url() string { return "esdb://" + n.addr + "?tls=false" }

// seed writes a record directly, as another writer (or the server itself,
// for system events) would.
func (n *fakeNode) seed(stream, typ, data string) fakeRecord {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.write(stream, uuid.New(), typ, []byte(data), nil)
}

// write appends one record; the caller holds n.mu. Positions are distinct
// in their commit and prepare parts (as for events written in an explicit
// transaction), so a swapped mapping shows.
func (n *fakeNode) write(stream string, id uuid.UUID, typ string, data, meta []byte) fakeRecord {
	prepare := uint64(1000 + 200*len(n.log))
	r := fakeRecord{
		id: id, stream: stream, typ: typ, rev: uint64(n.lastRev(stream) + 1),
		commit: prepare + 50, prepare: prepare, data: data, meta: meta,
		created: time.Now().UTC().Truncate(100 * time.Nanosecond),
	}
	n.log = append(n.log, r)
	close(n.changed)
	n.changed = make(chan struct{})
	return r
}

func (n *fakeNode) lastRev(stream string) int64 {
	last := int64(-1)
	for _, r := range n.log {
		if r.stream == stream {
			last = int64(r.rev)
		}
	}
	return last
}

func (n *fakeNode) streamRecords(stream string) []fakeRecord {
	var out []fakeRecord
	for _, r := range n.log {
		if r.stream == stream {
			out = append(out, r)
		}
	}
	return out
}

func (n *fakeNode) appendCount() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.appends)
}

func (n *fakeNode) lastAppend() capturedAppend {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.appends[len(n.appends)-1]
}

func (n *fakeNode) readRequests() []*streams.ReadReq {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]*streams.ReadReq(nil), n.reads...)
}

// fakeFeatures answers the client's connect-time question. The persistent
// "create" method must list the "all" feature or the client refuses
// persistent subscriptions to $all.
type fakeFeatures struct {
	serverfeatures.UnimplementedServerFeaturesServer
}

func (fakeFeatures) GetSupportedMethods(context.Context, *shared.Empty) (*serverfeatures.SupportedMethods, error) {
	const st = "event_store.client.streams.streams"
	const ps = "event_store.client.persistent_subscriptions.persistentsubscriptions"
	m := func(svc, name string, features ...string) *serverfeatures.SupportedMethod {
		return &serverfeatures.SupportedMethod{ServiceName: svc, MethodName: name, Features: features}
	}
	return &serverfeatures.SupportedMethods{
		EventStoreServerVersion: "24.10.0",
		Methods: []*serverfeatures.SupportedMethod{
			m(st, "read"), m(st, "append"),
			m(ps, "create", "stream", "all"), m(ps, "read", "stream", "all"), m(ps, "delete", "stream", "all"),
			m(ps, "getinfo", "stream", "all"), m(ps, "replayparked"), m(ps, "list"), m(ps, "restartsubsystem"),
		},
	}, nil
}

// recorded converts a record to the wire form the server sends, with the
// system metadata the client requires (it exits the process without
// "created").
func (r fakeRecord) recorded() *streams.ReadResp_ReadEvent_RecordedEvent {
	most, least := esdb.UUIDAsInt64(r.id)
	return &streams.ReadResp_ReadEvent_RecordedEvent{
		Id:               &shared.UUID{Value: &shared.UUID_Structured_{Structured: &shared.UUID_Structured{MostSignificantBits: most, LeastSignificantBits: least}}},
		StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(r.stream)},
		StreamRevision:   r.rev,
		PreparePosition:  r.prepare,
		CommitPosition:   r.commit,
		Metadata:         r.systemMetadata(),
		CustomMetadata:   r.meta,
		Data:             r.data,
	}
}

func (r fakeRecord) systemMetadata() map[string]string {
	return map[string]string{
		"type":         r.typ,
		"content-type": "application/json",
		"created":      strconv.FormatInt(r.created.UnixNano()/100, 10), // .NET ticks since the Unix epoch
	}
}

func (r fakeRecord) readResp() *streams.ReadResp {
	return &streams.ReadResp{Content: &streams.ReadResp_Event{Event: &streams.ReadResp_ReadEvent{
		Event:    r.recorded(),
		Position: &streams.ReadResp_ReadEvent_CommitPosition{CommitPosition: r.commit},
	}}}
}

func (r fakeRecord) after(commit, prepare uint64) bool {
	return r.commit > commit || (r.commit == commit && r.prepare > prepare)
}

// matcher builds the server's filter: a regular expression or prefixes, on
// the stream id or the event type.
func matcher(onType bool, regex string, prefixes []string) func(fakeRecord) bool {
	var re *regexp.Regexp
	if regex != "" {
		re = regexp.MustCompile(regex)
	}
	return func(r fakeRecord) bool {
		v := r.stream
		if onType {
			v = r.typ
		}
		if re != nil {
			return re.MatchString(v)
		}
		for _, p := range prefixes {
			if strings.HasPrefix(v, p) {
				return true
			}
		}
		return len(prefixes) == 0
	}
}

func (n *fakeNode) String() string { return fmt.Sprintf("fake KurrentDB node at %s", n.addr) }
