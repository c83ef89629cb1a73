package socketio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	json "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/socketio/parser"
)

// Namespace is a communication channel of its own over the shared
// connections (Node's Namespace): its own middleware, handlers, sockets
// and rooms. Get one with [Server.Of].
//
// Register middleware and handlers before clients connect; all methods are
// safe for concurrent use.
type Namespace struct {
	name    string
	srv     *Server
	adapter adapter.Adapter
	parent  *ParentNamespace // set for a child of a dynamic namespace
	ids     atomic.Uint64    // ack ids, shared by emits and broadcasts as in Node

	mu          sync.RWMutex
	sockets     map[string]*Socket
	middlewares []func(ctx context.Context, s *Socket) error
	onConnect   []func(ctx context.Context, s *Socket) error
	onDisconn   []func(s *Socket, reason Reason)
	handlers    map[string][]EventHandler
	serverEvts  map[string][]EventHandler
}

var _ adapter.Namespace = (*Namespace)(nil)

func newNamespace(srv *Server, name string) (*Namespace, error) {
	ns := &Namespace{
		name:       name,
		srv:        srv,
		sockets:    make(map[string]*Socket),
		handlers:   make(map[string][]EventHandler),
		serverEvts: make(map[string][]EventHandler),
	}
	a, err := srv.cfg.newAdapter(ns)
	if err != nil {
		return nil, fmt.Errorf("socketio: adapter of namespace %q: %w", name, err)
	}
	ns.adapter = a
	return ns, nil
}

// Name returns the namespace's name ("/" for the main namespace).
func (ns *Namespace) Name() string { return ns.name }

// RecoveryWindow implements [adapter.Namespace]: how long sessions are
// kept for connection state recovery, 0 when it is off.
func (ns *Namespace) RecoveryWindow() time.Duration { return ns.srv.cfg.recoveryWindow }

// Adapter returns the namespace's adapter.
func (ns *Namespace) Adapter() adapter.Adapter { return ns.adapter }

// Use adds connection middleware: fn runs for every socket connecting to
// the namespace, in the order added, before the socket is connected. A
// non-nil error refuses the connection: the client gets CONNECT_ERROR with
// {"message": err.Error()}, or the Message and Data of a *ConnectError.
func (ns *Namespace) Use(fn func(ctx context.Context, s *Socket) error) {
	ns.mu.Lock()
	ns.middlewares = append(ns.middlewares, fn)
	ns.mu.Unlock()
}

// OnConnection registers fn, run for every socket once it is connected
// (Node's "connection" event). Register the socket's own handlers there.
// A returned error is reported to Options.OnError.
func (ns *Namespace) OnConnection(fn func(ctx context.Context, s *Socket) error) {
	ns.mu.Lock()
	ns.onConnect = append(ns.onConnect, fn)
	ns.mu.Unlock()
}

// OnDisconnect registers fn, run for every socket of the namespace when
// it disconnects (before the socket's own OnDisconnect callbacks).
func (ns *Namespace) OnDisconnect(fn func(s *Socket, reason Reason)) {
	ns.mu.Lock()
	ns.onDisconn = append(ns.onDisconn, fn)
	ns.mu.Unlock()
}

// On registers h for event on every socket of the namespace; the socket
// is ev.Socket(). Reserved event names panic.
func (ns *Namespace) On(event string, h EventHandlerFunc) { ns.Handle(event, h) }

// Handle registers h for event (see [Namespace.On]).
func (ns *Namespace) Handle(event string, h EventHandler) {
	mustNotBeReserved(event)
	ns.mu.Lock()
	ns.handlers[event] = append(ns.handlers[event], h)
	ns.mu.Unlock()
}

// OnServerEvent registers h for events other servers send with
// ServerSideEmit. Clients cannot reach these handlers; ev.Socket() is nil.
func (ns *Namespace) OnServerEvent(event string, h EventHandlerFunc) {
	mustNotBeReserved(event)
	ns.mu.Lock()
	ns.serverEvts[event] = append(ns.serverEvts[event], h)
	ns.mu.Unlock()
}

func (ns *Namespace) eventHandlers(event string) []EventHandler {
	ns.mu.RLock()
	defer ns.mu.RUnlock()
	return ns.handlers[event]
}

func (ns *Namespace) disconnectHandlers() []func(*Socket, Reason) {
	ns.mu.RLock()
	defer ns.mu.RUnlock()
	return ns.onDisconn
}

func (ns *Namespace) nextAckID() uint64 { return ns.ids.Add(1) - 1 }

// Sockets returns the sockets connected to this namespace on this server.
func (ns *Namespace) Sockets() []*Socket {
	ns.mu.RLock()
	defer ns.mu.RUnlock()
	return slices.Collect(maps.Values(ns.sockets))
}

// Socket returns the local socket with id, or nil.
func (ns *Namespace) Socket(id string) *Socket {
	ns.mu.RLock()
	defer ns.mu.RUnlock()
	return ns.sockets[id]
}

// connectSocket runs on the new socket's dispatcher: middleware, then the
// CONNECT answer and the connection handlers (Node's _add/_doConnect).
func (ns *Namespace) connectSocket(s *Socket) {
	ns.mu.RLock()
	mws := slices.Clone(ns.middlewares)
	ns.mu.RUnlock()
	if s.recovered && ns.srv.cfg.skipMiddleware {
		mws = nil
	}
	for _, mw := range mws {
		if err := runRecovered(s, "middleware", mw); err != nil {
			s.log().Debug("socketio: connection refused by middleware", "err", err)
			ns.refuse(s, err)
			return
		}
	}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return
	}
	s.connected = true
	s.mu.Unlock()
	ns.mu.Lock()
	ns.sockets[s.id] = s
	ns.mu.Unlock()
	s.Join(s.id)
	s.client.connected()
	connect, _ := json.Marshal(struct {
		SID string `json:"sid"`
		PID string `json:"pid,omitempty"`
	}{s.id, s.pid})
	s.client.writePacket(&parser.Packet{Type: parser.Connect, Namespace: ns.name, Data: connect})
	if ns.srv.log.Enabled(s.ctx, slog.LevelDebug) { // every socket passes here
		s.log().Debug("socketio: socket connected")
	}

	ns.mu.RLock()
	handlers := slices.Clone(ns.onConnect)
	ns.mu.RUnlock()
	for _, fn := range handlers {
		if err := runRecovered(s, "connection handler", fn); err != nil {
			ns.srv.reportError(s, err)
		}
	}
}

// runRecovered runs a middleware or connection handler, turning a panic
// into an error (logged with what it was).
func runRecovered(s *Socket, what string, fn func(context.Context, *Socket) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("socketio: %s panicked: %v", what, r)
			s.log().Error("socketio: "+what+" panic", "panic", r)
		}
	}()
	return fn(s.ctx, s)
}

// refuse answers CONNECT_ERROR for a socket the middleware rejected.
func (ns *Namespace) refuse(s *Socket, err error) {
	body := struct {
		Message string `json:"message"`
		Data    any    `json:"data,omitempty"`
	}{Message: err.Error()}
	if ce, ok := errors.AsType[*ConnectError](err); ok {
		body.Message, body.Data = ce.Message, ce.Data
	}
	data, merr := json.Marshal(body, jsonv1.DefaultOptionsV1())
	if merr != nil {
		data, _ = json.Marshal(struct {
			Message string `json:"message"`
		}{body.Message})
	}
	s.client.writePacket(&parser.Packet{Type: parser.ConnectError, Namespace: ns.name, Data: data})
	s.onClose(ReasonServerNamespaceDisconnect)
}

func (ns *Namespace) removeSocket(s *Socket) {
	ns.mu.Lock()
	if ns.sockets[s.id] == s {
		delete(ns.sockets, s.id)
	}
	empty := len(ns.sockets) == 0
	ns.mu.Unlock()
	if empty && ns.parent != nil && ns.srv.cfg.cleanupChild {
		ns.srv.removeChild(ns)
	}
}

// ServerSideEvent implements [adapter.Namespace]: it runs the OnServerEvent
// handlers for an event sent by another server, on a goroutine of its own.
func (ns *Namespace) ServerSideEvent(data jsontext.Value, attachments [][]byte, reply func(jsontext.Value, [][]byte)) {
	ev, err := newEvent(nil, data, attachments)
	if err != nil {
		ns.srv.log.Debug("socketio: invalid server-side event", "nsp", ns.name, "err", err)
		return
	}
	if reply != nil {
		ev.ack = func(d jsontext.Value, a [][]byte) error { reply(d, a); return nil }
	}
	ns.mu.RLock()
	hs := slices.Clone(ns.serverEvts[ev.name])
	ns.mu.RUnlock()
	if len(hs) == 0 {
		return
	}
	ns.srv.goTracked(func() {
		for _, h := range hs {
			if err := h.ServeEvent(ns.srv.ctx, ev); err != nil {
				ns.srv.reportError(nil, err)
			}
		}
	})
}

func (ns *Namespace) newOperator() BroadcastOperator { return BroadcastOperator{ns: ns} }

// To returns an operator reaching the sockets in rooms.
func (ns *Namespace) To(rooms ...string) BroadcastOperator { return ns.newOperator().To(rooms...) }

// In is an alias of [Namespace.To].
func (ns *Namespace) In(rooms ...string) BroadcastOperator { return ns.To(rooms...) }

// Except returns an operator reaching every socket but those in rooms.
func (ns *Namespace) Except(rooms ...string) BroadcastOperator {
	return ns.newOperator().Except(rooms...)
}

// Local returns an operator limited to this server.
func (ns *Namespace) Local() BroadcastOperator { return ns.newOperator().Local() }

// Volatile returns an operator whose events may be dropped.
func (ns *Namespace) Volatile() BroadcastOperator { return ns.newOperator().Volatile() }

// Compress returns an operator that compresses or not.
func (ns *Namespace) Compress(compress bool) BroadcastOperator {
	return ns.newOperator().Compress(compress)
}

// Timeout returns an operator whose EmitWithAck gives up after d.
func (ns *Namespace) Timeout(d time.Duration) BroadcastOperator {
	return ns.newOperator().Timeout(d)
}

// Emit sends an event to every socket of the namespace.
func (ns *Namespace) Emit(event string, args ...any) error {
	return ns.newOperator().Emit(event, args...)
}

// EmitWithAck sends an event to every socket and collects their acks.
func (ns *Namespace) EmitWithAck(ctx context.Context, event string, args ...any) ([]*AckResponse, error) {
	return ns.newOperator().EmitWithAck(ctx, event, args...)
}

// FetchSockets returns every socket of the namespace, on every server.
func (ns *Namespace) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	return ns.newOperator().FetchSockets(ctx)
}

// SocketsJoin makes every socket join rooms.
func (ns *Namespace) SocketsJoin(rooms ...string) error {
	return ns.newOperator().SocketsJoin(rooms...)
}

// SocketsLeave makes every socket leave rooms.
func (ns *Namespace) SocketsLeave(rooms ...string) error {
	return ns.newOperator().SocketsLeave(rooms...)
}

// DisconnectSockets disconnects every socket (closing their connections
// if close is true).
func (ns *Namespace) DisconnectSockets(close bool) error {
	return ns.newOperator().DisconnectSockets(close)
}

// ServerSideEmit sends an event to the namespace's OnServerEvent handlers
// on the other servers.
func (ns *Namespace) ServerSideEmit(event string, args ...any) error {
	p, err := eventPacket(ns.name, event, args)
	if err != nil {
		return err
	}
	return ns.adapter.ServerSideEmit(p.Data, p.Attachments)
}

// ServerSideEmitWithAck is ServerSideEmit expecting one answer from each
// other server, until ctx is done; then it returns what arrived with a
// *PartialError. With no other server it returns at once, empty.
func (ns *Namespace) ServerSideEmitWithAck(ctx context.Context, event string, args ...any) ([]*AckResponse, error) {
	p, err := eventPacket(ns.name, event, args)
	if err != nil {
		return nil, err
	}
	res, err := ns.adapter.ServerSideEmitWithAck(ctx, p.Data, p.Attachments)
	out := make([]*AckResponse, 0, len(res))
	for _, r := range res {
		ar, derr := newAckResponse(r.Data, r.Attachments)
		if derr != nil {
			continue
		}
		out = append(out, ar)
	}
	return out, err
}

// ServerCount returns the number of servers serving the namespace, this
// one included: 1 with the memory adapter, the live cluster members with a
// cluster adapter (Node's adapter.serverCount()).
func (ns *Namespace) ServerCount(ctx context.Context) (int, error) {
	return ns.adapter.ServerCount(ctx)
}

// closeSockets disconnects every local socket with reason, and returns
// channels closed when their disconnect handlers have run.
func (ns *Namespace) closeSockets(reason Reason) []<-chan struct{} {
	var finals []<-chan struct{}
	for _, s := range ns.Sockets() {
		if done := s.onClose(reason); done != nil {
			finals = append(finals, done)
		}
	}
	return finals
}
