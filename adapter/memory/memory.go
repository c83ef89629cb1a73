// Package memory is the default Socket.IO adapter: rooms and broadcasts
// within one process, like Node's in-memory socket.io-adapter.
//
// Every broadcast encodes its packet once and hands the same Engine.IO
// messages to each recipient; the recipient set is computed under a read
// lock and delivered outside it, so a broadcast never holds the adapter
// while sockets queue packets, and sockets may join, leave or disconnect
// from inside a delivery.
//
// With connection state recovery on (the namespace's RecoveryWindow), it
// also keeps the sessions of disconnected sockets and the broadcast
// packets of the window (at most MaxStoredPackets) to replay them.
//
// With a single server, cluster operations are immediate: serverSideEmit
// reaches nobody, ServerSideEmitWithAck returns no answer and ServerCount
// is 1.
package memory

import (
	"context"
	"slices"
	"sync"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/socketio/parser"
)

// Adapter is the in-memory adapter of one namespace. It is safe for
// concurrent use.
type Adapter struct {
	ns adapter.Namespace

	mu      sync.RWMutex
	rooms   map[string]*idSet  // room → socket ids
	sockets map[string]*member // by socket id
	closed  bool

	recMu sync.Mutex
	rec   *recoveryStore // nil when connection state recovery is off
}

var _ adapter.Adapter = (*Adapter)(nil)

// New returns the memory adapter of ns. Its signature is an
// [adapter.Factory].
func New(ns adapter.Namespace) (adapter.Adapter, error) {
	return NewAdapter(ns), nil
}

// member is a socket and the rooms it is in.
type member struct {
	s     adapter.LocalSocket
	rooms idSet
}

// NewAdapter returns the memory adapter of ns, as its concrete type.
func NewAdapter(ns adapter.Namespace) *Adapter {
	a := &Adapter{
		ns:      ns,
		rooms:   make(map[string]*idSet),
		sockets: make(map[string]*member),
	}
	if w := ns.RecoveryWindow(); w > 0 {
		a.rec = newRecoveryStore(w)
	}
	return a
}

// AddAll implements [adapter.Adapter].
func (a *Adapter) AddAll(s adapter.LocalSocket, rooms ...string) {
	id := s.ID()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return
	}
	m := a.sockets[id]
	if m == nil {
		m = &member{}
		a.sockets[id] = m
	}
	m.s = s
	for _, room := range rooms {
		m.rooms.add(room)
		members := a.rooms[room]
		if members == nil {
			members = &idSet{}
			a.rooms[room] = members
		}
		members.add(id)
	}
}

// Del implements [adapter.Adapter].
func (a *Adapter) Del(id, room string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if m := a.sockets[id]; m != nil {
		m.rooms.remove(room)
	}
	a.removeFromRoomLocked(id, room)
}

func (a *Adapter) removeFromRoomLocked(id, room string) {
	members := a.rooms[room]
	if members == nil {
		return
	}
	members.remove(id)
	if members.len() == 0 {
		delete(a.rooms, room) // rooms never outlive their members
	}
}

// DelAll implements [adapter.Adapter].
func (a *Adapter) DelAll(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if m := a.sockets[id]; m != nil {
		for room := range m.rooms.all() {
			a.removeFromRoomLocked(id, room)
		}
	}
	delete(a.sockets, id)
}

// SocketRooms implements [adapter.Adapter].
func (a *Adapter) SocketRooms(id string) []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	m, ok := a.sockets[id]
	if !ok {
		return nil
	}
	return slices.AppendSeq(make([]string, 0, m.rooms.len()), m.rooms.all())
}

// Rooms implements [adapter.Adapter].
func (a *Adapter) Rooms() []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make([]string, 0, len(a.rooms))
	for room := range a.rooms {
		out = append(out, room)
	}
	return out
}

// Sockets implements [adapter.Adapter].
func (a *Adapter) Sockets(rooms ...string) []string {
	targets := a.targets(adapter.BroadcastOptions{Rooms: rooms})
	defer putTargets(targets)
	out := make([]string, len(*targets))
	for i, s := range *targets {
		out[i] = s.ID()
	}
	return out
}

// Target slices are pooled: a broadcast to N sockets costs no allocation
// per recipient.
var targetPool = sync.Pool{New: func() any { s := make([]adapter.LocalSocket, 0, 64); return &s }}

func putTargets(t *[]adapter.LocalSocket) {
	if cap(*t) > 1<<16 {
		return
	}
	clear(*t)
	*t = (*t)[:0]
	targetPool.Put(t)
}

// targets returns the local sockets matched by opts (Node's apply()):
// members of any of opts.Rooms (everyone when empty), minus members of
// any of opts.Except. Release the slice with putTargets.
func (a *Adapter) targets(opts adapter.BroadcastOptions) *[]adapter.LocalSocket {
	out := targetPool.Get().(*[]adapter.LocalSocket)
	a.mu.RLock()
	defer a.mu.RUnlock()
	switch len(opts.Rooms) {
	case 0:
		for id, m := range a.sockets {
			if !a.inAnyLocked(opts.Except, id) {
				*out = append(*out, m.s)
			}
		}
	default:
		// A socket in several of the rooms is taken from the first one
		// only; no per-call set, so the cost stays flat in recipients.
		for i, room := range opts.Rooms {
			a.appendMembersLocked(out, a.rooms[room], opts.Rooms[:i], opts.Except)
		}
	}
	return out
}

// appendMembersLocked appends the sockets of members (nil: none) that are
// in none of the rooms of skip and except.
func (a *Adapter) appendMembersLocked(out *[]adapter.LocalSocket, members *idSet, skip, except []string) {
	switch {
	case members == nil:
	case members.m != nil:
		for id := range members.m {
			if !a.inAnyLocked(skip, id) && !a.inAnyLocked(except, id) {
				*out = append(*out, a.sockets[id].s)
			}
		}
	default:
		for _, id := range members.list {
			if !a.inAnyLocked(skip, id) && !a.inAnyLocked(except, id) {
				*out = append(*out, a.sockets[id].s)
			}
		}
	}
}

func (a *Adapter) inAnyLocked(rooms []string, id string) bool {
	for _, r := range rooms {
		if members := a.rooms[r]; members != nil && members.has(id) {
			return true
		}
	}
	return false
}

// Broadcast implements [adapter.Adapter]: the packet is encoded once, and
// only if some socket is to receive it.
func (a *Adapter) Broadcast(p *parser.Packet, opts adapter.BroadcastOptions) error {
	if a.rec != nil && recoverable(p, opts) {
		p = a.store(p, opts) // kept, even with no recipient now: one may come back
	}
	targets := a.targets(opts)
	defer putTargets(targets)
	if len(*targets) == 0 {
		return nil
	}
	enc := adapter.Encode(p, opts.Flags.NoCompress)
	for _, s := range *targets {
		s.Deliver(enc, opts.Flags)
	}
	return nil
}

// BroadcastWithAck implements [adapter.Adapter].
func (a *Adapter) BroadcastWithAck(ctx context.Context, p *parser.Packet, opts adapter.BroadcastOptions, onCount func(int), onAck func(*parser.Packet)) error {
	targets := a.targets(opts)
	defer putTargets(targets)
	onCount(len(*targets))
	if len(*targets) == 0 {
		return nil
	}
	enc := adapter.Encode(p, opts.Flags.NoCompress)
	for _, s := range *targets {
		s.ExpectAck(ctx, p.ID, onAck) // before the packet can be answered
		s.Deliver(enc, opts.Flags)
	}
	return nil
}

// FetchSockets implements [adapter.Adapter].
func (a *Adapter) FetchSockets(_ context.Context, opts adapter.BroadcastOptions) ([]adapter.SocketInfo, error) {
	targets := a.targets(opts)
	defer putTargets(targets)
	out := make([]adapter.SocketInfo, 0, len(*targets))
	for _, s := range *targets {
		out = append(out, s.Info())
	}
	return out, nil
}

// AddSockets implements [adapter.Adapter].
func (a *Adapter) AddSockets(opts adapter.BroadcastOptions, rooms []string) error {
	targets := a.targets(opts)
	defer putTargets(targets)
	for _, s := range *targets {
		s.Join(rooms...)
	}
	return nil
}

// DelSockets implements [adapter.Adapter].
func (a *Adapter) DelSockets(opts adapter.BroadcastOptions, rooms []string) error {
	targets := a.targets(opts)
	defer putTargets(targets)
	for _, s := range *targets {
		for _, room := range rooms {
			s.Leave(room)
		}
	}
	return nil
}

// DisconnectSockets implements [adapter.Adapter].
func (a *Adapter) DisconnectSockets(opts adapter.BroadcastOptions, close bool) error {
	targets := a.targets(opts)
	defer putTargets(targets)
	for _, s := range *targets {
		s.Disconnect(close)
	}
	return nil
}

// ServerSideEmit implements [adapter.Adapter]: there is no other server.
func (a *Adapter) ServerSideEmit(jsontext.Value, [][]byte) error { return nil }

// ServerSideEmitWithAck implements [adapter.Adapter]: no other server, so
// no answer, at once.
func (a *Adapter) ServerSideEmitWithAck(context.Context, jsontext.Value, [][]byte) ([]adapter.Response, error) {
	return nil, nil
}

// ServerCount implements [adapter.Adapter].
func (a *Adapter) ServerCount(context.Context) (int, error) { return 1, nil }

// Close implements [adapter.Adapter]: it forgets every room and socket.
func (a *Adapter) Close() error {
	a.closeStore()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.closed = true
	clear(a.rooms)
	clear(a.sockets)
	return nil
}
