package socketio

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"

	json "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/engineio"
	"github.com/gosio/gosio/internal/lazylog"
	"github.com/gosio/gosio/socketio/parser"
)

// Handshake describes how a socket connected (Node's socket.handshake).
type Handshake = adapter.Handshake

// Socket is a client's connection to one namespace. It is created when
// the client connects to the namespace and the namespace middleware
// accepts it.
//
// All methods are safe for concurrent use. Its events are handled one at
// a time, in order, on a goroutine of their own.
type Socket struct {
	id        string
	pid       string // private id, for connection state recovery
	recovered bool
	ns        *Namespace
	client    *client
	handshake Handshake
	ctx       context.Context
	cancel    context.CancelFunc

	mu            sync.Mutex
	connected     bool // accepted by the middleware, not yet disconnected
	closing       bool // disconnect under way: events are ignored
	data          any
	acks          map[uint64]func(*parser.Packet)
	handlers      map[string][]EventHandler
	middlewares   []EventMiddleware
	anyIn         []*anyListener
	anyOut        []*anyOutListener
	onDisconnect  []func(*Socket, Reason)
	onDisconnecng []func(*Socket, Reason)

	queue taskQueue
}

// log returns the socket's logger: its client's, with the namespace and
// the socket id. Built on each call, it costs no memory while the socket
// is idle.
func (s *Socket) log() *slog.Logger {
	return lazylog.With(s.client.log(), slog.String("nsp", s.ns.name), slog.String("socket_id", s.id))
}

var _ adapter.LocalSocket = (*Socket)(nil)

func newSocketID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func newSocket(ns *Namespace, c *client, auth jsontext.Value) *Socket {
	ctx, cancel := context.WithCancel(context.Background())
	id := newSocketID()
	s := &Socket{
		id:     id,
		ns:     ns,
		client: c,
		ctx:    ctx,
		cancel: cancel,
	}
	s.queue.space = sync.NewCond(&s.queue.mu)
	s.handshake = buildHandshake(c.conn, auth)
	return s
}

func buildHandshake(conn *engineio.Session, auth jsontext.Value) Handshake {
	r := conn.Request()
	if len(auth) == 0 {
		auth = jsontext.Value("{}")
	}
	addr := r.RemoteAddr
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	now := time.Now()
	return Handshake{
		Headers: r.Header,
		Time:    now.Format(time.RFC1123),
		Address: addr,
		XDomain: r.Header.Get("Origin") != "",
		Secure:  r.TLS != nil,
		Issued:  now.UnixMilli(),
		URL:     r.URL.RequestURI(),
		Query:   conn.Query(),
		Auth:    auth,
	}
}

// ID returns the socket id: 20 URL-safe characters, random.
func (s *Socket) ID() string { return s.id }

// Recovered reports whether the socket was restored by connection state
// recovery: same id, rooms and data as before the client lost its
// connection, and the events it missed were replayed.
func (s *Socket) Recovered() bool { return s.recovered }

// Namespace returns the socket's namespace.
func (s *Socket) Namespace() *Namespace { return s.ns }

// Handshake returns how the socket connected. It must not be modified.
func (s *Socket) Handshake() *Handshake { return &s.handshake }

// Conn returns the underlying Engine.IO session, shared by the client's
// sockets of every namespace.
func (s *Socket) Conn() *engineio.Session { return s.client.conn }

// Context returns a context cancelled when the socket disconnects or the
// server shuts down. Handlers receive it too.
func (s *Socket) Context() context.Context { return s.ctx }

// Connected reports whether the socket is connected.
func (s *Socket) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connected && !s.closing
}

// LogValue implements slog.LogValuer.
func (s *Socket) LogValue() slog.Value {
	return slog.GroupValue(slog.String("socket_id", s.id), slog.String("nsp", s.ns.name), slog.String("sid", s.client.conn.ID()))
}

// Data returns the value stored with SetData (Node's socket.data).
func (s *Socket) Data() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data
}

// SetData stores an arbitrary value with the socket. It should be
// JSON-serialisable: FetchSockets sends it to other servers.
func (s *Socket) SetData(v any) {
	s.mu.Lock()
	s.data = v
	s.mu.Unlock()
}

// Join adds the socket to rooms. It does nothing once the socket has
// disconnected.
func (s *Socket) Join(rooms ...string) {
	// The check and the add happen under s.mu, which onClose takes to
	// mark the socket closing: a Join racing with the disconnect either
	// lands before the cleanup (which then removes it) or not at all.
	// (The adapter never calls into a socket while holding its lock.)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing || len(rooms) == 0 {
		return
	}
	s.ns.adapter.AddAll(s, rooms...)
}

// Leave removes the socket from room.
func (s *Socket) Leave(room string) { s.ns.adapter.Del(s.id, room) }

// Rooms returns the rooms the socket is in, its own id room included.
func (s *Socket) Rooms() []string { return s.ns.adapter.SocketRooms(s.id) }

// On registers h for event on this socket only; it runs after the
// namespace's handlers for the same event. Reserved names panic.
func (s *Socket) On(event string, h EventHandlerFunc) { s.Handle(event, h) }

// Handle registers h for event on this socket only (see [Socket.On]).
func (s *Socket) Handle(event string, h EventHandler) {
	mustNotBeReserved(event)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.handlers == nil {
		s.handlers = make(map[string][]EventHandler)
	}
	s.handlers[event] = append(s.handlers[event], h)
}

// Use adds an event middleware to this socket (Node's socket.use): it
// wraps the handling of every event, in the order added.
func (s *Socket) Use(mw EventMiddleware) {
	s.mu.Lock()
	s.middlewares = append(s.middlewares, mw)
	s.mu.Unlock()
}

// OnDisconnecting registers fn, run when the socket is about to
// disconnect, while it is still in its rooms.
func (s *Socket) OnDisconnecting(fn func(s *Socket, reason Reason)) {
	s.mu.Lock()
	s.onDisconnecng = append(s.onDisconnecng, fn)
	s.mu.Unlock()
}

// OnDisconnect registers fn, run once the socket has disconnected. It is
// the last callback of a socket.
func (s *Socket) OnDisconnect(fn func(s *Socket, reason Reason)) {
	s.mu.Lock()
	s.onDisconnect = append(s.onDisconnect, fn)
	s.mu.Unlock()
}

// Emit sends an event to the client. It never blocks. []byte values
// anywhere in args travel as binary attachments.
func (s *Socket) Emit(event string, args ...any) error {
	return s.emit(event, args, adapter.Flags{})
}

// Send emits a "message" event (Node's socket.send).
func (s *Socket) Send(args ...any) error { return s.Emit("message", args...) }

// EmitWithAck sends an event and waits for the client's acknowledgement,
// until ctx is done (then it returns ctx's error) or the socket
// disconnects ([ErrDisconnected]).
func (s *Socket) EmitWithAck(ctx context.Context, event string, args ...any) (*AckResponse, error) {
	return s.emitWithAck(ctx, event, args, adapter.Flags{})
}

// Volatile returns an emitter whose events may be dropped when the
// client is not ready to receive them.
func (s *Socket) Volatile() Emitter { return Emitter{s: s, flags: adapter.Flags{Volatile: true}} }

// Compress returns an emitter that compresses (the default) or not.
func (s *Socket) Compress(compress bool) Emitter {
	return Emitter{s: s, flags: adapter.Flags{NoCompress: !compress}}
}

// Timeout returns an emitter whose EmitWithAck gives up after d.
func (s *Socket) Timeout(d time.Duration) Emitter {
	return Emitter{s: s, flags: adapter.Flags{Timeout: d}}
}

// Broadcast returns an operator reaching every socket of the namespace
// but this one.
func (s *Socket) Broadcast() BroadcastOperator { return s.ns.newOperator().Except(s.id) }

// To returns an operator reaching the rooms, this socket excluded.
func (s *Socket) To(rooms ...string) BroadcastOperator { return s.Broadcast().To(rooms...) }

// In is an alias of [Socket.To].
func (s *Socket) In(rooms ...string) BroadcastOperator { return s.To(rooms...) }

// Except returns an operator reaching every socket but those in rooms and
// this one.
func (s *Socket) Except(rooms ...string) BroadcastOperator { return s.Broadcast().Except(rooms...) }

// Emitter emits on one socket with modifiers; it is an immutable value.
type Emitter struct {
	s     *Socket
	flags adapter.Flags
}

// Volatile returns a copy of e whose events may be dropped.
func (e Emitter) Volatile() Emitter { e.flags.Volatile = true; return e }

// Compress returns a copy of e that compresses or not.
func (e Emitter) Compress(compress bool) Emitter { e.flags.NoCompress = !compress; return e }

// Timeout returns a copy of e whose EmitWithAck gives up after d.
func (e Emitter) Timeout(d time.Duration) Emitter { e.flags.Timeout = d; return e }

// Emit is [Socket.Emit] with e's modifiers.
func (e Emitter) Emit(event string, args ...any) error { return e.s.emit(event, args, e.flags) }

// EmitWithAck is [Socket.EmitWithAck] with e's modifiers.
func (e Emitter) EmitWithAck(ctx context.Context, event string, args ...any) (*AckResponse, error) {
	return e.s.emitWithAck(ctx, event, args, e.flags)
}

func (s *Socket) emit(event string, args []any, f adapter.Flags) error {
	p, err := s.eventPacket(event, args)
	if err != nil {
		return err
	}
	if s.pid != "" && !f.Volatile {
		// With recovery, a socket's own events go through the adapter
		// (to its own room) so that they get an offset and are kept; the
		// socket is here, so they need not reach the other servers.
		if !s.Connected() {
			return ErrDisconnected
		}
		f.Local = true
		return s.ns.adapter.Broadcast(p, adapter.BroadcastOptions{Rooms: []string{s.id}, Flags: f})
	}
	return s.write(adapter.Encode(p, f.NoCompress), f)
}

// eventPacket is eventPacket for this socket, telling the outgoing
// catch-all listeners.
func (s *Socket) eventPacket(event string, args []any) (*parser.Packet, error) {
	p, err := eventPacket(s.ns.name, event, args)
	if err == nil {
		s.notifyOutgoing(event, args)
	}
	return p, err
}

func (s *Socket) emitWithAck(ctx context.Context, event string, args []any, f adapter.Flags) (*AckResponse, error) {
	if f.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.Timeout)
		defer cancel()
	}
	p, err := s.eventPacket(event, args)
	if err != nil {
		return nil, err
	}
	p.ID, p.HasID = s.ns.nextAckID(), true
	got := make(chan *parser.Packet, 1)
	if !s.addAck(p.ID, func(ack *parser.Packet) { got <- ack }) {
		return nil, ErrDisconnected
	}
	if err := s.write(adapter.Encode(p, f.NoCompress), f); err != nil {
		s.removeAck(p.ID)
		return nil, err
	}
	select {
	case ack := <-got:
		if ack == nil {
			return nil, ErrDisconnected
		}
		return newAckResponse(ack.Data, ack.Attachments)
	case <-ctx.Done():
		s.removeAck(p.ID)
		return nil, fmt.Errorf("socketio: ack for %q: %w", event, ctx.Err())
	}
}

// addAck registers fn for ack id; false if the socket is gone.
func (s *Socket) addAck(id uint64, fn func(*parser.Packet)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	if s.acks == nil {
		s.acks = make(map[uint64]func(*parser.Packet)) // most sockets never ask for one
	}
	s.acks[id] = fn
	return true
}

func (s *Socket) removeAck(id uint64) {
	s.mu.Lock()
	delete(s.acks, id)
	s.mu.Unlock()
}

// pendingAcks returns the number of acks awaited (for tests).
func (s *Socket) pendingAcks() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.acks)
}

// write queues an encoded packet on the connection.
func (s *Socket) write(enc *adapter.Encoded, f adapter.Flags) error {
	s.mu.Lock()
	// A recovered socket receives from the moment it is restored: what
	// arrives before the CONNECT answer is buffered by the client, as
	// with Node.
	gone := s.closing || !s.connected && !s.recovered
	s.mu.Unlock()
	if gone {
		return ErrDisconnected
	}
	return s.client.write(enc, f)
}

// Deliver implements [adapter.LocalSocket].
func (s *Socket) Deliver(enc *adapter.Encoded, f adapter.Flags) {
	if err := s.write(enc, f); err != nil && !errors.Is(err, ErrDisconnected) {
		s.log().Debug("socketio: broadcast not delivered", "err", err)
	}
}

// ExpectAck implements [adapter.LocalSocket].
func (s *Socket) ExpectAck(ctx context.Context, id uint64, fn func(*parser.Packet)) {
	if !s.addAck(id, func(ack *parser.Packet) {
		if ack != nil {
			fn(ack)
		}
	}) {
		return
	}
	context.AfterFunc(ctx, func() { s.removeAck(id) })
}

// Info implements [adapter.LocalSocket].
func (s *Socket) Info() adapter.SocketInfo {
	data := jsontext.Value("null")
	if v := s.Data(); v != nil {
		if b, err := json.Marshal(v, jsonv1.DefaultOptionsV1()); err == nil {
			data = b
		} else {
			s.log().Debug("socketio: socket data is not JSON-serialisable", "err", err)
		}
	}
	return adapter.SocketInfo{
		ID:        s.id,
		Handshake: s.handshake,
		Rooms:     s.Rooms(),
		Data:      data,
		Local:     s,
	}
}

// Disconnect disconnects the socket from its namespace (reason "server
// namespace disconnect"); with close, it closes the whole connection, and
// so the client's sockets of every namespace.
func (s *Socket) Disconnect(close bool) {
	if !s.Connected() {
		return
	}
	if close {
		s.client.disconnectAll()
		return
	}
	_ = s.client.write(adapter.Encode(&parser.Packet{Type: parser.Disconnect, Namespace: s.ns.name}, false), adapter.Flags{})
	s.onClose(ReasonServerNamespaceDisconnect)
}

// onPacket handles a packet for this socket; it runs on the reader.
func (s *Socket) onPacket(p *parser.Packet) {
	switch p.Type {
	case parser.Event, parser.BinaryEvent:
		ev, err := newEvent(s, p.Data, p.Attachments)
		if err != nil {
			s.log().Debug("socketio: invalid event", "err", err)
			s.client.protocolError(err)
			return
		}
		if p.HasID {
			id := p.ID
			ev.ack = func(data jsontext.Value, atts [][]byte) error {
				ack := &parser.Packet{Type: parser.Ack, Namespace: s.ns.name, ID: id, HasID: true, Data: data, Attachments: atts}
				if len(atts) > 0 {
					ack.Type = parser.BinaryAck
				}
				return s.client.write(adapter.Encode(ack, false), adapter.Flags{})
			}
		}
		cost := len(p.Data)
		for _, a := range p.Attachments {
			cost += len(a)
		}
		s.enqueue(task{run: func() { s.dispatchEvent(ev) }, cost: cost}, s.client.conn.Context())
	case parser.Ack, parser.BinaryAck:
		s.mu.Lock()
		fn := s.acks[p.ID]
		delete(s.acks, p.ID)
		s.mu.Unlock()
		if fn == nil {
			s.log().Debug("socketio: bad ack", "id", p.ID) // unknown, duplicate or late: ignored, as in Node
			return
		}
		fn(p)
	case parser.Disconnect:
		s.onClose(ReasonClientNamespaceDisconnect)
	}
}

// dispatchEvent runs on the socket's dispatcher: catch-all listeners,
// then middleware, then the handlers.
func (s *Socket) dispatchEvent(ev *Event) {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return // Node ignores packets received after disconnection
	}
	anyIn := slices.Clone(s.anyIn)
	mws := slices.Clone(s.middlewares)
	own := slices.Clone(s.handlers[ev.name])
	s.mu.Unlock()
	for _, l := range anyIn {
		l.fn(ev)
	}
	var h EventHandler = EventHandlerFunc(func(ctx context.Context, ev *Event) error {
		for _, h := range s.ns.eventHandlers(ev.name) {
			s.serve(ctx, h, ev)
		}
		for _, h := range own {
			s.serve(ctx, h, ev)
		}
		return nil
	})
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	s.serve(s.ctx, h, ev)
}

// onClose disconnects the socket with reason, once. The handlers run on
// the dispatcher, after the event being handled, if any: disconnecting
// (rooms still there), then the cleanup, then disconnect. The returned
// channel is closed when they have run; nil if the socket was already
// closing.
func (s *Socket) onClose(reason Reason) <-chan struct{} {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return nil
	}
	wasConnected := s.connected
	s.closing = true
	acks := s.acks
	s.acks = nil
	s.mu.Unlock()

	s.cancel()
	s.ns.removeSocket(s)
	s.client.removeSocket(s)
	s.closeQueue()
	for _, fn := range acks {
		fn(nil) // pending EmitWithAck calls fail with ErrDisconnected
	}
	done := make(chan struct{})
	s.enqueueFinal(func() {
		defer close(done)
		if wasConnected {
			s.mu.Lock()
			before := slices.Clone(s.onDisconnecng)
			s.mu.Unlock()
			for _, fn := range before {
				fn(s, reason)
			}
		}
		rooms := s.Rooms()
		s.ns.adapter.DelAll(s.id)
		// Persisted only after the cleanup: a restored socket reuses the
		// id, and must not lose its rooms to this cleanup.
		if wasConnected && s.pid != "" && recoverableReasons[reason] {
			s.ns.adapter.PersistSession(&adapter.Session{SID: s.id, PID: s.pid, Rooms: rooms, Data: s.Data()})
		}
		s.mu.Lock()
		s.connected = false
		after := slices.Clone(s.onDisconnect)
		s.mu.Unlock()
		if wasConnected {
			for _, fn := range s.ns.disconnectHandlers() {
				fn(s, reason)
			}
			for _, fn := range after {
				fn(s, reason)
			}
		}
		if s.ns.srv.log.Enabled(context.Background(), slog.LevelDebug) { // every socket passes here
			s.log().Debug("socketio: socket disconnected", "reason", string(reason))
		}
	})
	return done
}

// recoverableReasons are the disconnect reasons after which a session is
// kept for recovery (Node's RECOVERABLE_DISCONNECT_REASONS).
var recoverableReasons = map[Reason]bool{
	ReasonTransportError:     true,
	ReasonTransportClose:     true,
	ReasonForcedClose:        true,
	ReasonPingTimeout:        true,
	ReasonServerShuttingDown: true,
	ReasonForcedServerClose:  true,
}

func mustNotBeReserved(event string) {
	if parser.IsReserved(event) {
		panic(fmt.Sprintf("socketio: %q is a reserved event name", event))
	}
}
