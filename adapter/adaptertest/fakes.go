package adaptertest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/socketio/parser"
)

// Socket is a fake [adapter.LocalSocket] that records what an adapter does
// to it. Like *socketio.Socket, it calls back into its adapter: Join calls
// AddAll, Leave calls Del, Disconnect calls DelAll and Info calls
// SocketRooms, so an adapter that calls a socket while holding its own lock
// deadlocks in the suite. Once disconnected, Join does nothing
// (RELIABILITY.md row 27).
//
// Its methods are safe for concurrent use and never block.
type Socket struct {
	id string
	a  adapter.Adapter

	// Set by the suite before the socket is shared, never changed after.
	server    int                                                    // index of its server in the cluster
	countOnly bool                                                   // count deliveries, record nothing
	onDeliver func(s *Socket, enc *adapter.Encoded, f adapter.Flags) // called after recording

	mu           sync.Mutex
	disconnected bool
	calls        []string
	deliveries   []Delivery
	acks         []ExpectedAck
	joins        [][]string
	leaves       []string
	disconnects  []bool
	delivered    int
}

// Delivery is one call of [Socket.Deliver].
type Delivery struct {
	Encoded *adapter.Encoded
	Flags   adapter.Flags
}

// ExpectedAck is one call of [Socket.ExpectAck]. Fn is the adapter's
// callback: calling it simulates the client's ACK.
type ExpectedAck struct {
	Ctx context.Context
	ID  uint64
	Fn  func(ack *parser.Packet)
}

// Names of the calls recorded by [Socket.Calls].
const (
	CallDeliver    = "Deliver"
	CallExpectAck  = "ExpectAck"
	CallJoin       = "Join"
	CallLeave      = "Leave"
	CallDisconnect = "Disconnect"
)

var _ adapter.LocalSocket = (*Socket)(nil)

// NewSocket returns a connected fake socket with the given id whose Join,
// Leave and Disconnect act on a. It does not add the socket to a: call
// a.AddAll(s, id) (a real socket joins the room named after its id) or
// s.Join.
func NewSocket(a adapter.Adapter, id string) *Socket {
	return &Socket{id: id, a: a}
}

// ID implements [adapter.LocalSocket].
func (s *Socket) ID() string { return s.id }

// Deliver implements [adapter.LocalSocket]: it records enc and flags.
func (s *Socket) Deliver(enc *adapter.Encoded, f adapter.Flags) {
	s.mu.Lock()
	s.delivered++
	if !s.countOnly {
		s.calls = append(s.calls, CallDeliver)
		s.deliveries = append(s.deliveries, Delivery{Encoded: enc, Flags: f})
	}
	s.mu.Unlock()
	if s.onDeliver != nil {
		s.onDeliver(s, enc, f)
	}
}

// ExpectAck implements [adapter.LocalSocket]: it records the registration.
// The fake never calls fn itself; tests call ExpectedAck.Fn.
func (s *Socket) ExpectAck(ctx context.Context, id uint64, fn func(ack *parser.Packet)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.countOnly {
		return
	}
	s.calls = append(s.calls, CallExpectAck)
	s.acks = append(s.acks, ExpectedAck{Ctx: ctx, ID: id, Fn: fn})
}

// Join implements [adapter.LocalSocket]: it records the call and, unless
// the socket has disconnected, adds the socket to rooms through its
// adapter.
func (s *Socket) Join(rooms ...string) {
	s.mu.Lock()
	gone := s.disconnected
	if !s.countOnly {
		s.calls = append(s.calls, CallJoin)
		s.joins = append(s.joins, slices.Clone(rooms))
	}
	s.mu.Unlock()
	if !gone {
		s.a.AddAll(s, rooms...)
	}
}

// Leave implements [adapter.LocalSocket]: it records the call and removes
// the socket from room through its adapter.
func (s *Socket) Leave(room string) {
	s.mu.Lock()
	if !s.countOnly {
		s.calls = append(s.calls, CallLeave)
		s.leaves = append(s.leaves, room)
	}
	s.mu.Unlock()
	s.a.Del(s.id, room)
}

// Disconnect implements [adapter.LocalSocket]: it records close and, the
// first time, removes the socket from its adapter (DelAll), as a real
// socket does.
func (s *Socket) Disconnect(close bool) {
	s.mu.Lock()
	first := !s.disconnected
	s.disconnected = true
	s.calls = append(s.calls, CallDisconnect)
	s.disconnects = append(s.disconnects, close)
	s.mu.Unlock()
	if first {
		s.a.DelAll(s.id)
	}
}

// Info implements [adapter.LocalSocket]. The handshake and data are
// derived from the id (see [SocketInfo]); Rooms come from the adapter.
func (s *Socket) Info() adapter.SocketInfo {
	info := SocketInfo(s.id)
	info.Rooms = s.a.SocketRooms(s.id)
	info.Local = s
	return info
}

// Connected reports whether Disconnect has not been called.
func (s *Socket) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.disconnected
}

// Calls returns the names of the calls the socket received, in order
// ([CallDeliver], [CallExpectAck], [CallJoin], [CallLeave],
// [CallDisconnect]).
func (s *Socket) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// Deliveries returns the packets delivered so far, in order.
func (s *Socket) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.deliveries)
}

// Delivered returns the number of Deliver calls so far.
func (s *Socket) Delivered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.delivered
}

// Acks returns the ack registrations so far, in order.
func (s *Socket) Acks() []ExpectedAck {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.acks)
}

// Joins returns the rooms of every Join call, in order.
func (s *Socket) Joins() [][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.joins)
}

// Leaves returns the room of every Leave call, in order.
func (s *Socket) Leaves() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.leaves)
}

// Disconnects returns the close argument of every Disconnect call.
func (s *Socket) Disconnects() []bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.disconnects)
}

// SocketInfo returns the snapshot a fake [Socket] with this id reports,
// without Rooms and Local: every field is derived from id, so that a test
// can check what another server's FetchSockets returns.
func SocketInfo(id string) adapter.SocketInfo {
	return adapter.SocketInfo{
		ID: id,
		Handshake: adapter.Handshake{
			Headers: map[string][]string{"User-Agent": {"adaptertest/" + id}},
			Time:    "Mon, 02 Jan 2006 15:04:05 GMT",
			Address: "192.0.2.1",
			Secure:  true,
			Issued:  1136214245000,
			URL:     "/socket.io/?EIO=4&transport=websocket&id=" + id,
			Query:   map[string][]string{"id": {id}},
			Auth:    jsontext.Value(fmt.Sprintf(`{"token":%q}`, id)),
		},
		Data: jsontext.Value(fmt.Sprintf(`{"id":%q,"n":1}`, id)),
	}
}

// ReplyFunc computes a namespace's answer to a server-side event.
type ReplyFunc func(data jsontext.Value, attachments [][]byte) (jsontext.Value, [][]byte)

// Namespace is a fake [adapter.Namespace] that records the server-side
// events it receives and, when built with a [ReplyFunc], answers those
// whose sender expects an answer. It is safe for concurrent use.
type Namespace struct {
	name  string
	reply ReplyFunc
	// Window is what RecoveryWindow returns: 0 (recovery off) unless set
	// before the adapter is created.
	Window time.Duration

	mu     sync.Mutex
	events []ServerEvent
}

// ServerEvent is one call of [Namespace.ServerSideEvent]; Data and
// Attachments are copies.
type ServerEvent struct {
	Data        jsontext.Value
	Attachments [][]byte
	// WantsReply reports whether the adapter passed a reply function.
	WantsReply bool
}

var _ adapter.Namespace = (*Namespace)(nil)

// NewNamespace returns a fake namespace called name. With a nil reply it
// never answers, like a server with no handler for the event.
func NewNamespace(name string, reply ReplyFunc) *Namespace {
	return &Namespace{name: name, reply: reply}
}

// Name implements [adapter.Namespace].
func (n *Namespace) Name() string { return n.name }

// RecoveryWindow implements [adapter.Namespace].
func (n *Namespace) RecoveryWindow() time.Duration { return n.Window }

// ServerSideEvent implements [adapter.Namespace]: it records the event and
// answers at once if both the sender and the namespace's ReplyFunc want it.
func (n *Namespace) ServerSideEvent(data jsontext.Value, attachments [][]byte, reply func(jsontext.Value, [][]byte)) {
	ev := ServerEvent{Data: slices.Clone(data), WantsReply: reply != nil}
	for _, a := range attachments {
		ev.Attachments = append(ev.Attachments, slices.Clone(a))
	}
	n.mu.Lock()
	n.events = append(n.events, ev)
	n.mu.Unlock()
	if reply != nil && n.reply != nil {
		reply(n.reply(ev.Data, ev.Attachments))
	}
}

// Events returns the server-side events received so far, in order.
func (n *Namespace) Events() []ServerEvent {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.events)
}
