package kurrent

import (
	"context"
	"fmt"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/persistent"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// subscribeAll serves a catch-up subscription to $all as the server does:
// a confirmation, the stored events after the start position (exclusive)
// that pass the filter, a checkpoint and "caught up", then live events.
func (n *fakeNode) subscribeAll(o *streams.ReadReq_Options, srv streams.Streams_ReadServer) error {
	confirm := &streams.ReadResp{Content: &streams.ReadResp_Confirmation{Confirmation: &streams.ReadResp_SubscriptionConfirmation{SubscriptionId: "fake-sub"}}}
	if err := srv.Send(confirm); err != nil {
		return err
	}
	match := subscriptionFilter(o.GetFilter())
	next := n.startIndex(o.GetAll())
	sent, caughtUp := 0, false
	for {
		n.mu.Lock()
		batch, changed := append([]fakeRecord(nil), n.log[next:]...), n.changed
		n.mu.Unlock()
		for _, r := range batch {
			next++
			if !match(r) {
				continue
			}
			if err := srv.Send(r.readResp()); err != nil {
				return err
			}
			sent++
			if n.dropNow(sent) {
				return status.Error(codes.Unavailable, "fake: subscription dropped by the server")
			}
		}
		if !caughtUp && len(batch) > 0 {
			last := batch[len(batch)-1]
			cp := &streams.ReadResp{Content: &streams.ReadResp_Checkpoint_{Checkpoint: &streams.ReadResp_Checkpoint{CommitPosition: last.commit, PreparePosition: last.prepare}}}
			if err := srv.Send(cp); err != nil {
				return err
			}
		}
		if !caughtUp {
			caughtUp = true
			if err := srv.Send(&streams.ReadResp{Content: &streams.ReadResp_CaughtUp_{CaughtUp: &streams.ReadResp_CaughtUp{}}}); err != nil {
				return err
			}
		}
		select {
		case <-changed:
		case <-srv.Context().Done():
			return srv.Context().Err()
		}
	}
}

func (n *fakeNode) startIndex(ao *streams.ReadReq_Options_AllOptions) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch ao.GetAllOption().(type) {
	case *streams.ReadReq_Options_AllOptions_Start:
		return 0
	case *streams.ReadReq_Options_AllOptions_End:
		return len(n.log)
	}
	p := ao.GetPosition()
	for i, r := range n.log {
		at := r.commit == p.CommitPosition && r.prepare == p.PreparePosition
		if r.after(p.CommitPosition, p.PreparePosition) || (at && n.subscribeInclusive) {
			return i
		}
	}
	return len(n.log)
}

func (n *fakeNode) dropNow(sent int) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.dropAfter > 0 && !n.dropped && sent >= n.dropAfter {
		n.dropped = true
		return true
	}
	return false
}

func subscriptionFilter(fo *streams.ReadReq_Options_FilterOptions) func(fakeRecord) bool {
	if fo == nil {
		return func(fakeRecord) bool { return true }
	}
	if e := fo.GetEventType(); e != nil {
		return matcher(true, e.GetRegex(), e.GetPrefix())
	}
	e := fo.GetStreamIdentifier()
	return matcher(false, e.GetRegex(), e.GetPrefix())
}

// fakeGroup is one persistent subscription group on $all.
type fakeGroup struct {
	create  *persistent.CreateReq
	match   func(fakeRecord) bool
	next    int          // next $all index to offer
	pending []offer      // retries and replayed parked events, offered first
	parked  []fakeRecord // the parked-message stream
}

type offer struct {
	rec     fakeRecord
	retries int32
}

// settlement is what a consumer answered for one offered event.
type settlement struct {
	group   string
	id      uuid.UUID
	retries int32
	ack     bool
	action  persistent.ReadReq_Nack_Action
}

type fakePersistent struct {
	persistent.UnimplementedPersistentSubscriptionsServer
	n *fakeNode
}

func (f *fakePersistent) Create(_ context.Context, req *persistent.CreateReq) (*persistent.CreateResp, error) {
	n := f.n
	n.mu.Lock()
	defer n.mu.Unlock()
	n.creates = append(n.creates, req)
	name := req.GetOptions().GetGroupName()
	if _, ok := n.groups[name]; ok {
		return nil, status.Errorf(codes.AlreadyExists, "subscription group '%s' on stream '$all' exists", name)
	}
	all := req.GetOptions().GetAll()
	g := &fakeGroup{create: req, match: func(fakeRecord) bool { return true }}
	if fo := all.GetFilter(); fo != nil {
		if e := fo.GetEventType(); e != nil {
			g.match = matcher(true, e.GetRegex(), e.GetPrefix())
		} else {
			g.match = matcher(false, fo.GetStreamIdentifier().GetRegex(), fo.GetStreamIdentifier().GetPrefix())
		}
	}
	if all.GetEnd() != nil {
		g.next = len(n.log)
	}
	n.groups[name] = g
	return &persistent.CreateResp{}, nil
}

// Read offers one event at a time and waits for its ack or nack. The server
// offers several (the buffer size) at once; one at a time keeps the test's
// order of settlements deterministic. A retry goes to the front, as the
// server's retry buffer does, and is parked by the server itself once its
// retry count passes max_retry_count.
func (f *fakePersistent) Read(srv persistent.PersistentSubscriptions_ReadServer) error {
	first, err := srv.Recv()
	if err != nil {
		return err
	}
	name := first.GetOptions().GetGroupName()
	n := f.n
	n.mu.Lock()
	g, ok := n.groups[name]
	n.mu.Unlock()
	if !ok {
		return status.Errorf(codes.NotFound, "subscription group '%s' on stream '$all' does not exist", name)
	}
	confirm := &persistent.ReadResp{Content: &persistent.ReadResp_SubscriptionConfirmation_{SubscriptionConfirmation: &persistent.ReadResp_SubscriptionConfirmation{SubscriptionId: "$all::" + name}}}
	if err := srv.Send(confirm); err != nil {
		return err
	}
	for {
		o, changed, ok := n.nextOffer(g)
		if !ok {
			select {
			case <-changed:
				continue
			case <-srv.Context().Done():
				return srv.Context().Err()
			}
		}
		if err := srv.Send(o.readResp()); err != nil {
			return err
		}
		answer, err := srv.Recv()
		if err != nil {
			return err
		}
		n.settle(name, g, o, answer)
	}
}

func (n *fakeNode) nextOffer(g *fakeGroup) (offer, chan struct{}, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(g.pending) > 0 {
		o := g.pending[0]
		g.pending = g.pending[1:]
		return o, nil, true
	}
	for g.next < len(n.log) {
		r := n.log[g.next]
		g.next++
		if g.match(r) {
			return offer{rec: r}, nil, true
		}
	}
	return offer{}, n.changed, false
}

func (n *fakeNode) settle(name string, g *fakeGroup, o offer, answer *persistent.ReadReq) {
	n.mu.Lock()
	defer n.mu.Unlock()
	s := settlement{group: name, id: o.rec.id, retries: o.retries}
	if answer.GetAck() != nil {
		s.ack = true
	} else {
		s.action = answer.GetNack().GetAction()
		switch {
		case s.action == persistent.ReadReq_Nack_Park,
			s.action == persistent.ReadReq_Nack_Retry && o.retries+1 > g.create.GetOptions().GetSettings().GetMaxRetryCount():
			g.parked = append(g.parked, o.rec)
		case s.action == persistent.ReadReq_Nack_Retry:
			g.pending = append([]offer{{rec: o.rec, retries: o.retries + 1}}, g.pending...)
		}
	}
	n.settled = append(n.settled, s)
}

func (o offer) readResp() *persistent.ReadResp {
	r := o.rec.recorded()
	rec := &persistent.ReadResp_ReadEvent_RecordedEvent{
		Id: r.Id, StreamIdentifier: r.StreamIdentifier, StreamRevision: r.StreamRevision,
		PreparePosition: r.PreparePosition, CommitPosition: r.CommitPosition,
		Metadata: r.Metadata, CustomMetadata: r.CustomMetadata, Data: r.Data,
	}
	return &persistent.ReadResp{Content: &persistent.ReadResp_Event{Event: &persistent.ReadResp_ReadEvent{
		Event:    rec,
		Position: &persistent.ReadResp_ReadEvent_CommitPosition{CommitPosition: o.rec.commit},
		Count:    &persistent.ReadResp_ReadEvent_RetryCount{RetryCount: o.retries},
	}}}
}

func (f *fakePersistent) GetInfo(_ context.Context, req *persistent.GetInfoReq) (*persistent.GetInfoResp, error) {
	n := f.n
	n.mu.Lock()
	defer n.mu.Unlock()
	name := req.GetOptions().GetGroupName()
	g, ok := n.groups[name]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "subscription group '%s' does not exist", name)
	}
	return &persistent.GetInfoResp{SubscriptionInfo: &persistent.SubscriptionInfo{
		EventSource: "$all", GroupName: name, Status: "Live", StartFrom: "C:0/P:0",
		NamedConsumerStrategy: "Pinned", ParkedMessageCount: int64(len(g.parked)),
		MaxRetryCount: g.create.GetOptions().GetSettings().GetMaxRetryCount(),
	}}, nil
}

// ReplayParked offers the parked events again, with fresh retry counts.
func (f *fakePersistent) ReplayParked(_ context.Context, req *persistent.ReplayParkedReq) (*persistent.ReplayParkedResp, error) {
	n := f.n
	n.mu.Lock()
	defer n.mu.Unlock()
	n.replays = append(n.replays, req)
	g, ok := n.groups[req.GetOptions().GetGroupName()]
	if !ok {
		return nil, status.Error(codes.NotFound, "no such group")
	}
	for _, r := range g.parked {
		g.pending = append(g.pending, offer{rec: r})
	}
	g.parked = nil
	close(n.changed)
	n.changed = make(chan struct{})
	return &persistent.ReplayParkedResp{}, nil
}

func (f *fakePersistent) Delete(_ context.Context, req *persistent.DeleteReq) (*persistent.DeleteResp, error) {
	n := f.n
	n.mu.Lock()
	defer n.mu.Unlock()
	name := req.GetOptions().GetGroupName()
	if _, ok := n.groups[name]; !ok {
		return nil, status.Error(codes.NotFound, fmt.Sprintf("subscription group '%s' does not exist", name))
	}
	delete(n.groups, name)
	return &persistent.DeleteResp{}, nil
}
