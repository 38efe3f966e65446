package kurrent

import (
	"errors"
	"io"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// fakeStreams is the node's Streams service.
type fakeStreams struct {
	streams.UnimplementedStreamsServer
	n *fakeNode
}

// Append reads the options message, then the proposed events, and answers
// once at the end, as the server's Streams.Append does.
func (f *fakeStreams) Append(srv streams.Streams_AppendServer) error {
	first, err := srv.Recv()
	if err != nil {
		return err
	}
	opts := first.GetOptions()
	if opts == nil {
		return status.Error(codes.InvalidArgument, "first append message must be options")
	}
	var events []*streams.AppendReq_ProposedMessage
	for {
		req, err := srv.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		events = append(events, req.GetProposedMessage())
	}
	return srv.SendAndClose(f.n.append(opts, events))
}

// append decides like the server's IndexWriter.CheckCommit: the exact
// expectations compare the ids after the expected revision; Any and
// StreamExists look the ids up in the stream.
func (n *fakeNode) append(o *streams.AppendReq_Options, events []*streams.AppendReq_ProposedMessage) *streams.AppendResp {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.appends = append(n.appends, capturedAppend{options: o, events: events})
	stream := string(o.GetStreamIdentifier().GetStreamName())
	cur := n.lastRev(stream)
	switch o.GetExpectedStreamRevision().(type) {
	case *streams.AppendReq_Options_NoStream:
		return n.exactCheck(o, stream, -1, cur, events)
	case *streams.AppendReq_Options_Revision:
		return n.exactCheck(o, stream, int64(o.GetRevision()), cur, events)
	case *streams.AppendReq_Options_StreamExists:
		if cur < 0 {
			return wrongExpected(o, cur)
		}
	}
	return n.anyCheck(o, stream, cur, events)
}

func (n *fakeNode) exactCheck(o *streams.AppendReq_Options, stream string, expected, cur int64, events []*streams.AppendReq_ProposedMessage) *streams.AppendResp {
	switch {
	case expected == cur:
		return n.commit(stream, events)
	case expected > cur:
		return wrongExpected(o, cur)
	}
	recs := n.streamRecords(stream)
	for i, e := range events {
		at := expected + 1 + int64(i)
		if at >= int64(len(recs)) || recs[at].id != eventID(e) {
			return wrongExpected(o, cur) // a new event at a taken version, or a partial replay
		}
	}
	return n.idempotent(recs[expected+int64(len(events))])
}

func (n *fakeNode) anyCheck(o *streams.AppendReq_Options, stream string, cur int64, events []*streams.AppendReq_ProposedMessage) *streams.AppendResp {
	byID := map[uuid.UUID]fakeRecord{}
	for _, r := range n.streamRecords(stream) {
		byID[r.id] = r
	}
	var last fakeRecord
	for i, e := range events {
		r, seen := byID[eventID(e)]
		switch {
		case !seen && i == 0:
			return n.commit(stream, events)
		case !seen:
			return wrongExpected(o, cur) // "corrupted idempotency"
		}
		last = r
	}
	return n.idempotent(last)
}

func (n *fakeNode) commit(stream string, events []*streams.AppendReq_ProposedMessage) *streams.AppendResp {
	var last fakeRecord
	for _, e := range events {
		last = n.write(stream, eventID(e), e.GetMetadata()["type"], e.GetData(), e.GetCustomMetadata())
	}
	return success(last, true)
}

func (n *fakeNode) idempotent(last fakeRecord) *streams.AppendResp {
	return success(last, !n.noIdempotentPosition)
}

func success(last fakeRecord, withPosition bool) *streams.AppendResp {
	ok := &streams.AppendResp_Success{
		CurrentRevisionOption: &streams.AppendResp_Success_CurrentRevision{CurrentRevision: last.rev},
		PositionOption:        &streams.AppendResp_Success_NoPosition{NoPosition: &shared.Empty{}},
	}
	if withPosition {
		ok.PositionOption = &streams.AppendResp_Success_Position{Position: &streams.AppendResp_Position{
			CommitPosition: last.commit, PreparePosition: last.prepare,
		}}
	}
	return &streams.AppendResp{Result: &streams.AppendResp_Success_{Success: ok}}
}

// wrongExpected fills both the current and the 20.6.0 fields, as the server
// does.
func wrongExpected(o *streams.AppendReq_Options, cur int64) *streams.AppendResp {
	w := &streams.AppendResp_WrongExpectedVersion{}
	switch o.GetExpectedStreamRevision().(type) {
	case *streams.AppendReq_Options_Any:
		w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedAny{ExpectedAny: &shared.Empty{}}
	case *streams.AppendReq_Options_StreamExists:
		w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedStreamExists{ExpectedStreamExists: &shared.Empty{}}
	case *streams.AppendReq_Options_NoStream:
		w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedNoStream{ExpectedNoStream: &shared.Empty{}}
	case *streams.AppendReq_Options_Revision:
		w.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedRevision{ExpectedRevision: o.GetRevision()}
	}
	if cur < 0 {
		w.CurrentRevisionOption = &streams.AppendResp_WrongExpectedVersion_CurrentNoStream{CurrentNoStream: &shared.Empty{}}
		w.CurrentRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_NoStream_20_6_0{NoStream_20_6_0: &shared.Empty{}}
	} else {
		w.CurrentRevisionOption = &streams.AppendResp_WrongExpectedVersion_CurrentRevision{CurrentRevision: uint64(cur)}
		w.CurrentRevisionOption_20_6_0 = &streams.AppendResp_WrongExpectedVersion_CurrentRevision_20_6_0{CurrentRevision_20_6_0: uint64(cur)}
	}
	return &streams.AppendResp{Result: &streams.AppendResp_WrongExpectedVersion_{WrongExpectedVersion: w}}
}

func eventID(e *streams.AppendReq_ProposedMessage) uuid.UUID {
	s := e.GetId().GetStructured()
	id, _ := esdb.ParseUUIDFromInt64(s.GetMostSignificantBits(), s.GetLeastSignificantBits())
	return id
}

// Read serves stream reads, $all reads and $all subscriptions.
func (f *fakeStreams) Read(req *streams.ReadReq, srv streams.Streams_ReadServer) error {
	f.n.mu.Lock()
	f.n.reads = append(f.n.reads, req)
	f.n.mu.Unlock()
	o := req.GetOptions()
	switch {
	case o.GetStream() != nil:
		return f.n.readStream(o, srv)
	case o.GetSubscription() != nil:
		return f.n.subscribeAll(o, srv)
	}
	return f.n.readAll(o, srv)
}

// readStream answers a missing or soft-deleted stream with a StreamNotFound
// message and a tombstoned one with the "stream-deleted" exception trailer,
// as the server does. Reads are inclusive of their start revision.
func (n *fakeNode) readStream(o *streams.ReadReq_Options, srv streams.Streams_ReadServer) error {
	so := o.GetStream()
	name := string(so.GetStreamIdentifier().GetStreamName())
	n.mu.Lock()
	tomb, soft, recs := n.tombstoned[name], n.softDeleted[name], n.streamRecords(name)
	n.mu.Unlock()
	if tomb {
		srv.SetTrailer(metadata.Pairs("exception", "stream-deleted", "stream-name", name))
		return status.Error(codes.FailedPrecondition, "Event stream '"+name+"' is deleted.")
	}
	if soft || len(recs) == 0 {
		return srv.Send(&streams.ReadResp{Content: &streams.ReadResp_StreamNotFound_{StreamNotFound: &streams.ReadResp_StreamNotFound{
			StreamIdentifier: so.GetStreamIdentifier(),
		}}})
	}
	backwards := o.GetReadDirection() == streams.ReadReq_Options_Backwards
	from := int64(so.GetRevision())
	switch so.GetRevisionOption().(type) {
	case *streams.ReadReq_Options_StreamOptions_Start:
		from = 0
	case *streams.ReadReq_Options_StreamOptions_End:
		from = int64(recs[len(recs)-1].rev)
	}
	var sel []fakeRecord
	for _, r := range recs {
		if (!backwards && int64(r.rev) >= from) || (backwards && int64(r.rev) <= from) {
			sel = append(sel, r)
		}
	}
	return sendRecords(srv, sel, backwards, o.GetCount())
}

// readAll reads $all forwards inclusively from a position, or backwards
// from the end or from before a position.
func (n *fakeNode) readAll(o *streams.ReadReq_Options, srv streams.Streams_ReadServer) error {
	ao := o.GetAll()
	backwards := o.GetReadDirection() == streams.ReadReq_Options_Backwards
	n.mu.Lock()
	recs := append([]fakeRecord(nil), n.log...)
	n.mu.Unlock()
	var sel []fakeRecord
	for _, r := range recs {
		switch ao.GetAllOption().(type) {
		case *streams.ReadReq_Options_AllOptions_Start, *streams.ReadReq_Options_AllOptions_End:
			sel = append(sel, r)
		case *streams.ReadReq_Options_AllOptions_Position:
			p := ao.GetPosition()
			atOrAfter := r.after(p.CommitPosition, p.PreparePosition) || (r.commit == p.CommitPosition && r.prepare == p.PreparePosition)
			if atOrAfter != backwards {
				sel = append(sel, r)
			}
		}
	}
	if _, end := ao.GetAllOption().(*streams.ReadReq_Options_AllOptions_End); end && !backwards {
		sel = nil
	}
	return sendRecords(srv, sel, backwards, o.GetCount())
}

func sendRecords(srv streams.Streams_ReadServer, sel []fakeRecord, backwards bool, count uint64) error {
	if backwards {
		for i, j := 0, len(sel)-1; i < j; i, j = i+1, j-1 {
			sel[i], sel[j] = sel[j], sel[i]
		}
	}
	for i, r := range sel {
		if uint64(i) >= count {
			break
		}
		if err := srv.Send(r.readResp()); err != nil {
			return err
		}
	}
	return nil // the end of the read: the server completes the call
}
