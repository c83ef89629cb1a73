package natsadapter

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/nats-io/nats.go"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/adapter/nats/internal/wire"
	"github.com/gosio/gosio/socketio/parser"
)

// request is a pending FETCH_SOCKETS or SERVER_SIDE_EMIT with ack: it is
// done when every peer that was alive when it was sent has answered or
// is gone.
type request struct {
	kind      wire.MessageType
	expected  int
	missing   map[string]struct{}
	sockets   []adapter.SocketInfo
	responses []adapter.Response
	done      chan struct{}
	err       error // set before done is closed: adapter.ErrClosed
	once      sync.Once
}

func (r *request) finish(err error) {
	r.once.Do(func() { r.err = err; close(r.done) })
}

// ackRequest is a pending broadcast with acks: remote client counts and
// acks go to its callbacks.
type ackRequest struct {
	onCount func(int)
	onAck   func(*parser.Packet)
}

// newRequest registers a request to every live peer; it returns a nil
// request when there is none.
func (a *Adapter) newRequest(kind wire.MessageType) (*request, string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil, "", adapter.ErrClosed
	}
	if len(a.nodes) == 0 {
		return nil, "", nil
	}
	r := &request{kind: kind, expected: len(a.nodes), missing: make(map[string]struct{}, len(a.nodes)), done: make(chan struct{})}
	for uid := range a.nodes {
		r.missing[uid] = struct{}{}
	}
	id := newRequestID()
	a.requests[id] = r
	return r, id, nil
}

func (a *Adapter) dropRequest(id string) {
	a.mu.Lock()
	delete(a.requests, id)
	a.mu.Unlock()
}

// wait waits for r to complete, until ctx is done or timeout (or the
// request timeout when ctx has no deadline and timeout is 0) passes. On a
// timeout it returns an *adapter.PartialError naming the silent peers.
func (a *Adapter) wait(ctx context.Context, timeout time.Duration, id string, r *request) error {
	ctx, cancel := a.requestContext(ctx, timeout)
	defer cancel()
	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.requests, id)
	select {
	case <-r.done: // completed meanwhile
		return r.err
	default:
	}
	missing := slices.Sorted(maps.Keys(r.missing))
	cause := ctx.Err()
	if a.closed {
		cause = adapter.ErrClosed
	}
	return &adapter.PartialError{Expected: r.expected, Received: r.expected - len(missing), Missing: missing, Err: cause}
}

// answered records uid's answer to request id, under a.mu, and returns
// the request if it was waiting for it.
func (a *Adapter) answeredLocked(id, uid string, kind wire.MessageType) *request {
	r := a.requests[id]
	if r == nil || r.kind != kind {
		return nil // unknown, finished, or timed out: a late answer
	}
	if _, ok := r.missing[uid]; !ok {
		return nil // not asked, or answered twice
	}
	delete(r.missing, uid)
	return r
}

func (a *Adapter) completeLocked(id string, r *request) {
	if len(r.missing) == 0 {
		delete(a.requests, id)
		r.finish(nil)
	}
}

// removeNode forgets peer uid and stops waiting for its answers.
func (a *Adapter) removeNode(uid, why string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.nodes[uid]; !ok {
		return
	}
	delete(a.nodes, uid)
	for id, r := range a.requests {
		if _, ok := r.missing[uid]; ok {
			delete(r.missing, uid)
			a.completeLocked(id, r)
		}
	}
	a.log.Info("natsadapter: peer left", "peer", uid, "why", why, "servers", 1+len(a.nodes))
}

// ---------------------------------------------------------------- background

// loop sends heartbeats, drops silent peers, watches the connection and
// reports slow-consumer drops, until Close.
func (a *Adapter) loop() {
	defer a.wg.Done()
	hb := time.NewTimer(a.cfg.heartbeatInterval)
	defer hb.Stop()
	check := time.NewTicker(min(max(a.cfg.heartbeatTimeout/10, 10*time.Millisecond), time.Second))
	defer check.Stop()
	var dropped [2]int
	var lastReport time.Time
	status := a.status // Close closes it; a nil channel blocks for ever
	for {
		select {
		case <-a.ctx.Done():
			return
		case <-hb.C:
			since := time.Since(time.Unix(0, a.lastPublish.Load()))
			if since < a.cfg.heartbeatInterval {
				hb.Reset(a.cfg.heartbeatInterval - since) // something else said we are alive
				continue
			}
			if a.nc.IsConnected() {
				if err := a.publish(a.subject, &wire.Message{UID: a.uid, NSP: a.nsp, Type: wire.Heartbeat}); err != nil {
					a.log.Warn("natsadapter: heartbeat not sent", "err", err)
				}
			}
			hb.Reset(a.cfg.heartbeatInterval)
		case now := <-check.C:
			a.dropSilent(now)
			a.reportDrops(&dropped, &lastReport, now)
		case st, ok := <-status:
			if !ok {
				status = nil
				continue
			}
			switch st {
			case nats.CONNECTED:
				// nats.go has replayed our subscriptions: say hello again
				// so that peers (and we) relearn the cluster at once.
				a.log.Info("natsadapter: NATS connection restored; subscriptions resumed")
				if err := a.publish(a.subject, &wire.Message{UID: a.uid, NSP: a.nsp, Type: wire.InitialHeartbeat}); err != nil {
					a.log.Warn("natsadapter: hello after reconnect not sent", "err", err)
				}
			case nats.CLOSED:
				a.log.Error("natsadapter: NATS connection closed; the namespace now serves this server only")
			default:
				a.log.Warn("natsadapter: NATS connection lost; local delivery goes on, cluster messages fail until it is back", "status", st)
			}
		}
	}
}

// dropSilent removes the peers not heard of within the heartbeat timeout.
func (a *Adapter) dropSilent(now time.Time) {
	a.mu.Lock()
	var gone []string
	for uid, seen := range a.nodes {
		if now.Sub(seen) > a.cfg.heartbeatTimeout {
			gone = append(gone, uid)
		}
	}
	a.mu.Unlock()
	for _, uid := range gone {
		a.removeNode(uid, "heartbeat timeout")
	}
}

// reportDrops logs messages NATS dropped because our callbacks were too
// slow: once when it starts, then at most every 30 s while it lasts.
func (a *Adapter) reportDrops(last *[2]int, lastReport *time.Time, now time.Time) {
	for i, s := range a.subs {
		n, err := s.Dropped()
		if err != nil || n <= last[i] {
			continue
		}
		if now.Sub(*lastReport) >= 30*time.Second || lastReport.IsZero() {
			a.log.Error("natsadapter: slow consumer: NATS dropped cluster messages", "subject", s.Subject,
				"dropped", n-last[i], "total", n, "err", nats.ErrSlowConsumer)
			*lastReport = now
			last[i] = n
		}
	}
}

// ---------------------------------------------------------------- incoming

// decode decodes a message of a peer, or logs and returns nil.
func (a *Adapter) decode(msg *nats.Msg) *wire.Message {
	if a.testHook != nil {
		a.testHook()
	}
	if a.ctx.Err() != nil { // closed
		return nil
	}
	m, err := wire.Decode(msg.Data)
	if err != nil {
		a.log.Debug("natsadapter: invalid message dropped", "subject", msg.Subject, "size", len(msg.Data), "err", err)
		return nil
	}
	if m.UID == a.uid {
		return nil // our own, echoed by NATS
	}
	if m.NSP != a.nsp {
		a.log.Debug("natsadapter: message of another namespace dropped", "subject", msg.Subject, "msg_nsp", m.NSP, "type", m.Type)
		return nil
	}
	return m
}

// onMessage handles the namespace-wide subject: heartbeats and commands.
func (a *Adapter) onMessage(msg *nats.Msg) {
	m := a.decode(msg)
	if m == nil {
		return
	}
	if m.UID != "" && m.UID != wire.EmitterUID && m.Type != wire.AdapterClose {
		a.mu.Lock()
		_, known := a.nodes[m.UID]
		if !a.closed {
			a.nodes[m.UID] = time.Now()
		}
		n := len(a.nodes)
		a.mu.Unlock()
		if !known {
			a.log.Info("natsadapter: peer joined", "peer", m.UID, "servers", 1+n)
		}
	}
	switch m.Type {
	case wire.InitialHeartbeat:
		if err := a.publish(a.subject, &wire.Message{UID: a.uid, NSP: a.nsp, Type: wire.Heartbeat}); err != nil {
			a.log.Warn("natsadapter: heartbeat answer not sent", "err", err)
		}
	case wire.Heartbeat:
	case wire.AdapterClose:
		a.removeNode(m.UID, "closed")
	case wire.Broadcast:
		a.onBroadcast(m.UID, m.Data.(*wire.BroadcastData))
	case wire.SocketsJoin:
		d := m.Data.(*wire.SocketsRoomsData)
		_ = a.local.AddSockets(d.Opts.BroadcastOptions(), d.Rooms)
	case wire.SocketsLeave:
		d := m.Data.(*wire.SocketsRoomsData)
		_ = a.local.DelSockets(d.Opts.BroadcastOptions(), d.Rooms)
	case wire.DisconnectSockets:
		d := m.Data.(*wire.DisconnectSocketsData)
		_ = a.local.DisconnectSockets(d.Opts.BroadcastOptions(), d.Close)
	case wire.FetchSockets:
		a.onFetchSockets(m.UID, m.Data.(*wire.FetchSocketsData))
	case wire.ServerSideEmit:
		a.onServerSideEmit(m.UID, m.Data.(*wire.ServerSideEmitData))
	default: // an answer sent to everyone: not for us
		a.log.Debug("natsadapter: answer on the namespace subject dropped", "type", m.Type, "peer", m.UID)
	}
}

func (a *Adapter) onBroadcast(from string, d *wire.BroadcastData) {
	p, err := wire.PacketFromWire(d.Packet, a.nsp)
	if err != nil || (p.Type != parser.Event && p.Type != parser.BinaryEvent) {
		a.log.Debug("natsadapter: invalid broadcast packet dropped", "peer", from, "err", err)
		return
	}
	opts := d.Opts.BroadcastOptions()
	opts.Flags.Local = true // it must not travel again
	if d.RequestID == "" {
		_ = a.local.Broadcast(p, opts)
		return
	}
	if !p.HasID {
		a.log.Debug("natsadapter: broadcast with ack but no ack id dropped", "peer", from)
		return
	}
	// The clients' acks are awaited for the sender's timeout, else the
	// request timeout, and no longer than this adapter lives.
	ctx, cancel := a.requestContext(context.Background(), opts.Flags.Timeout)
	context.AfterFunc(ctx, cancel) // releases the timer and the close hook
	inbox := a.peerInbox(from)
	onCount := func(n int) {
		a.answer(inbox, wire.BroadcastClientCount, &wire.BroadcastClientCountData{RequestID: d.RequestID, ClientCount: int64(n)})
	}
	onAck := func(ack *parser.Packet) {
		first, all, err := ackToWire(ack.Data, ack.Attachments)
		if err != nil {
			a.log.Debug("natsadapter: client ack not forwarded", "peer", from, "err", err)
			return
		}
		a.answer(inbox, wire.BroadcastAck, &wire.BroadcastAckData{RequestID: d.RequestID, Packet: first, Args: all})
	}
	_ = a.local.BroadcastWithAck(ctx, p, opts, onCount, onAck)
}

func (a *Adapter) onFetchSockets(from string, d *wire.FetchSocketsData) {
	opts := d.Opts.BroadcastOptions()
	opts.Flags.Local = true
	infos, _ := a.local.FetchSockets(a.ctx, opts)
	sockets := make([]wire.Socket, 0, len(infos))
	for _, info := range infos {
		s, err := wire.SocketFromInfo(info)
		if err != nil {
			a.log.Warn("natsadapter: socket left out of a fetchSockets answer", "socket", info.ID, "err", err)
			continue
		}
		sockets = append(sockets, s)
	}
	a.answer(a.peerInbox(from), wire.FetchSocketsResponse, &wire.FetchSocketsResponseData{RequestID: d.RequestID, Sockets: sockets})
}

func (a *Adapter) onServerSideEmit(from string, d *wire.ServerSideEmitData) {
	data, atts, err := wire.ToJSON(d.Packet)
	if err != nil || len(d.Packet) == 0 {
		a.log.Debug("natsadapter: invalid server-side event dropped", "peer", from, "err", err)
		return
	}
	var reply func(jsontext.Value, [][]byte)
	if d.RequestID != "" {
		inbox := a.peerInbox(from)
		reply = func(data jsontext.Value, atts [][]byte) {
			first, all, err := ackToWire(data, atts)
			if err != nil {
				a.log.Warn("natsadapter: server-side ack not sent", "peer", from, "err", err)
				return
			}
			a.answer(inbox, wire.ServerSideEmitResponse, &wire.ServerSideEmitResponseData{RequestID: d.RequestID, Packet: first, Args: all})
		}
	}
	a.ns.ServerSideEvent(data, atts, reply)
}

// peerInbox returns the subject of peer uid's answers.
func (a *Adapter) peerInbox(uid string) string { return a.subject + "." + uid }

// answer publishes an answer to a peer, logging a failure: the peer's
// request then ends on its deadline with the partial results.
func (a *Adapter) answer(inbox string, t wire.MessageType, data any) {
	if err := a.publish(inbox, &wire.Message{UID: a.uid, NSP: a.nsp, Type: t, Data: data}); err != nil {
		a.log.Warn("natsadapter: answer not sent", "type", t, "err", err)
	}
}

// onResponse handles this server's own subject: answers to its requests.
func (a *Adapter) onResponse(msg *nats.Msg) {
	m := a.decode(msg)
	if m == nil {
		return
	}
	switch m.Type {
	case wire.FetchSocketsResponse:
		d := m.Data.(*wire.FetchSocketsResponseData)
		infos := make([]adapter.SocketInfo, 0, len(d.Sockets))
		for _, s := range d.Sockets {
			info, err := s.Info()
			if err != nil {
				a.log.Debug("natsadapter: invalid socket in a fetchSockets answer", "peer", m.UID, "err", err)
				continue
			}
			infos = append(infos, info)
		}
		a.mu.Lock()
		if r := a.answeredLocked(d.RequestID, m.UID, wire.FetchSockets); r != nil {
			r.sockets = append(r.sockets, infos...)
			a.completeLocked(d.RequestID, r)
		}
		a.mu.Unlock()
	case wire.ServerSideEmitResponse:
		d := m.Data.(*wire.ServerSideEmitResponseData)
		data, atts, err := ackFromWire(d.Packet, d.Args)
		if err != nil {
			a.log.Debug("natsadapter: invalid server-side ack dropped", "peer", m.UID, "err", err)
			return
		}
		a.mu.Lock()
		if r := a.answeredLocked(d.RequestID, m.UID, wire.ServerSideEmit); r != nil {
			r.responses = append(r.responses, adapter.Response{Data: data, Attachments: atts})
			a.completeLocked(d.RequestID, r)
		}
		a.mu.Unlock()
	case wire.BroadcastClientCount:
		d := m.Data.(*wire.BroadcastClientCountData)
		r := a.ackRequest(d.RequestID)
		if r == nil || d.ClientCount < 0 || d.ClientCount > 1<<31 {
			return
		}
		r.onCount(int(d.ClientCount))
	case wire.BroadcastAck:
		d := m.Data.(*wire.BroadcastAckData)
		r := a.ackRequest(d.RequestID)
		if r == nil {
			return
		}
		data, atts, err := ackFromWire(d.Packet, d.Args)
		if err != nil {
			a.log.Debug("natsadapter: invalid client ack dropped", "peer", m.UID, "err", err)
			return
		}
		typ := parser.Ack
		if len(atts) > 0 {
			typ = parser.BinaryAck
		}
		r.onAck(&parser.Packet{Type: typ, Namespace: a.nsp, Data: data, Attachments: atts})
	default:
		a.log.Debug("natsadapter: command on the answer subject dropped", "type", m.Type, "peer", m.UID)
	}
}

func (a *Adapter) ackRequest(id string) *ackRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.acks[id]
}

// String describes the adapter for logs.
func (a *Adapter) String() string {
	return fmt.Sprintf("natsadapter(%s %q %s)", a.subject, a.nsp, a.uid)
}
