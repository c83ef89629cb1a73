package socketio

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/gosio/gosio/adapter/memory"
	"github.com/gosio/gosio/engineio"
)

// Server is a Socket.IO v5 server. It is an [http.Handler]: mount it on
// its path (mux.Handle("/socket.io/", srv)) in an http.Server you own.
//
// A Server is safe for concurrent use. The methods it shares with
// [Namespace] act on the main namespace "/".
type Server struct {
	cfg    *config
	eio    *engineio.Server
	log    *slog.Logger
	ctx    context.Context // cancelled at shutdown
	cancel context.CancelFunc

	mu      sync.RWMutex
	nsps    map[string]*Namespace
	parents []*ParentNamespace
	closed  bool
	wg      sync.WaitGroup // dispatchers and server-side event handlers
	main    *Namespace
}

// New returns a server configured by opts (nil means all defaults).
func New(opts *Options) (*Server, error) {
	cfg, eopts, err := newConfig(opts, memory.New)
	if err != nil {
		return nil, err
	}
	eio, err := engineio.New(&eopts)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv := &Server{
		cfg:    cfg,
		eio:    eio,
		log:    cfg.logger.With("component", "socketio"),
		ctx:    ctx,
		cancel: cancel,
		nsps:   make(map[string]*Namespace),
	}
	eio.OnConnection(srv.onEngineConnection)
	main, err := newNamespace(srv, "/")
	if err != nil {
		cancel()
		_ = eio.Close()
		return nil, fmt.Errorf("socketio: main namespace: %w", err)
	}
	srv.nsps["/"] = main
	srv.main = main
	return srv, nil
}

// ServeHTTP serves Socket.IO clients.
func (srv *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { srv.eio.ServeHTTP(w, r) }

// Engine returns the underlying Engine.IO server.
func (srv *Server) Engine() *engineio.Server { return srv.eio }

// Path returns the URL path prefix the server answers on.
func (srv *Server) Path() string { return srv.eio.Path() }

// Of returns the namespace name, creating it if needed (Node's io.of).
// A name without a leading "/" gets one. It panics if the adapter factory
// fails: create namespaces at start-up. (New reports the failure of the
// main namespace's adapter as an error.)
func (srv *Server) Of(name string) *Namespace {
	if !strings.HasPrefix(name, "/") {
		name = "/" + name
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if ns := srv.nsps[name]; ns != nil {
		return ns
	}
	ns, err := newNamespace(srv, name)
	if err != nil {
		panic(err)
	}
	srv.nsps[name] = ns
	return ns
}

// namespaceFor returns the namespace a client asks for: an existing one,
// or a new child of a matching parent; nil when there is none.
func (srv *Server) namespaceFor(name string, auth jsontext.Value) *Namespace {
	srv.mu.RLock()
	ns := srv.nsps[name]
	parents := srv.parents
	closed := srv.closed
	srv.mu.RUnlock()
	if ns != nil || closed {
		return ns
	}
	for _, p := range parents {
		if !p.match(name, auth) {
			continue
		}
		srv.mu.Lock()
		defer srv.mu.Unlock()
		if ns := srv.nsps[name]; ns != nil {
			return ns
		}
		child, err := p.newChild(name)
		if err != nil {
			srv.log.Error("socketio: cannot create dynamic namespace", "nsp", name, "err", err)
			return nil
		}
		srv.nsps[name] = child
		return child
	}
	return nil
}

// removeChild deletes an empty child namespace (CleanupEmptyChildNamespaces).
func (srv *Server) removeChild(ns *Namespace) {
	srv.mu.Lock()
	if srv.nsps[ns.name] != ns || len(ns.Sockets()) > 0 {
		srv.mu.Unlock()
		return
	}
	delete(srv.nsps, ns.name)
	srv.mu.Unlock()
	ns.parent.mu.Lock()
	delete(ns.parent.children, ns.name)
	ns.parent.mu.Unlock()
	_ = ns.adapter.Close()
}

// goTracked runs fn on a goroutine Shutdown waits for.
func (srv *Server) goTracked(fn func()) {
	srv.mu.RLock()
	defer srv.mu.RUnlock()
	if srv.closed {
		return
	}
	srv.wg.Go(fn)
}

func (srv *Server) reportError(s *Socket, err error) {
	if fn := srv.cfg.onError; fn != nil {
		fn(s, err)
		return
	}
	if s != nil {
		s.log().Debug("socketio: handler error", "err", err)
		return
	}
	srv.log.Debug("socketio: handler error", "err", err)
}

// Shutdown disconnects every socket with reason "server shutting down",
// closes the adapters, shuts the Engine.IO server down (see
// engineio.Server.Shutdown) and waits for the handlers still running,
// until ctx is done. Each long-polling client must come back for its close
// packet: one that has vanished keeps Shutdown waiting until ctx ends (then
// it is cut and ctx's error returned), so give ctx a deadline.
func (srv *Server) Shutdown(ctx context.Context) error {
	if !srv.closeNamespaces(ctx) {
		return ErrServerClosed
	}
	err := srv.eio.Shutdown(ctx)
	done := make(chan struct{})
	go func() { srv.wg.Wait(); close(done) }()
	select {
	case <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close is Shutdown without waiting for clients: connections are cut at
// once. It waits for the handlers still running.
func (srv *Server) Close() error {
	if !srv.closeNamespaces(context.Background()) {
		return ErrServerClosed
	}
	err := srv.eio.Close()
	srv.wg.Wait()
	return err
}

// closeNamespaces marks the server closed, disconnects every socket with
// "server shutting down", waits (until ctx is done) for their disconnect
// handlers, which may still broadcast, to the other servers too, as in
// Node, and then closes the adapters; false if the server was already
// closed.
func (srv *Server) closeNamespaces(ctx context.Context) bool {
	nsps, ok := srv.markClosed()
	if !ok {
		return false
	}
	var finals []<-chan struct{}
	for _, ns := range nsps {
		finals = append(finals, ns.closeSockets(ReasonServerShuttingDown)...)
	}
wait:
	for _, done := range finals {
		select {
		case <-done:
		case <-ctx.Done():
			break wait
		}
	}
	for _, ns := range nsps {
		_ = ns.adapter.Close()
	}
	return true
}

func (srv *Server) markClosed() ([]*Namespace, bool) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.closed {
		return nil, false
	}
	srv.closed = true
	srv.cancel()
	return slices.Collect(maps.Values(srv.nsps)), true
}

// The main namespace's API, on the server (io.on, io.emit, io.to …).

// Use adds connection middleware to the main namespace.
func (srv *Server) Use(fn func(ctx context.Context, s *Socket) error) { srv.main.Use(fn) }

// OnConnection registers a connection handler of the main namespace.
func (srv *Server) OnConnection(fn func(ctx context.Context, s *Socket) error) {
	srv.main.OnConnection(fn)
}

// OnDisconnect registers a disconnect handler of the main namespace.
func (srv *Server) OnDisconnect(fn func(s *Socket, reason Reason)) { srv.main.OnDisconnect(fn) }

// On registers an event handler of the main namespace.
func (srv *Server) On(event string, h EventHandlerFunc) { srv.main.On(event, h) }

// Handle registers an event handler of the main namespace.
func (srv *Server) Handle(event string, h EventHandler) { srv.main.Handle(event, h) }

// OnServerEvent registers a server-side event handler of the main namespace.
func (srv *Server) OnServerEvent(event string, h EventHandlerFunc) { srv.main.OnServerEvent(event, h) }

// Emit sends an event to every socket of the main namespace.
func (srv *Server) Emit(event string, args ...any) error { return srv.main.Emit(event, args...) }

// To returns an operator on the main namespace's rooms.
func (srv *Server) To(rooms ...string) BroadcastOperator { return srv.main.To(rooms...) }

// In is an alias of To.
func (srv *Server) In(rooms ...string) BroadcastOperator { return srv.main.In(rooms...) }

// Except returns an operator on the main namespace, skipping rooms.
func (srv *Server) Except(rooms ...string) BroadcastOperator { return srv.main.Except(rooms...) }

// Local returns an operator on the main namespace limited to this server.
func (srv *Server) Local() BroadcastOperator { return srv.main.Local() }

// Volatile returns a volatile operator on the main namespace.
func (srv *Server) Volatile() BroadcastOperator { return srv.main.Volatile() }

// Compress returns an operator on the main namespace that compresses or not.
func (srv *Server) Compress(compress bool) BroadcastOperator { return srv.main.Compress(compress) }

// Timeout returns an operator on the main namespace with an ack timeout.
func (srv *Server) Timeout(d time.Duration) BroadcastOperator { return srv.main.Timeout(d) }

// FetchSockets returns the main namespace's sockets on every server.
func (srv *Server) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	return srv.main.FetchSockets(ctx)
}

// SocketsJoin makes every socket of the main namespace join rooms.
func (srv *Server) SocketsJoin(rooms ...string) error { return srv.main.SocketsJoin(rooms...) }

// SocketsLeave makes every socket of the main namespace leave rooms.
func (srv *Server) SocketsLeave(rooms ...string) error { return srv.main.SocketsLeave(rooms...) }

// DisconnectSockets disconnects every socket of the main namespace.
func (srv *Server) DisconnectSockets(close bool) error { return srv.main.DisconnectSockets(close) }

// ServerSideEmit sends an event to the other servers' main namespace.
func (srv *Server) ServerSideEmit(event string, args ...any) error {
	return srv.main.ServerSideEmit(event, args...)
}

// ServerSideEmitWithAck is ServerSideEmit expecting answers.
func (srv *Server) ServerSideEmitWithAck(ctx context.Context, event string, args ...any) ([]*AckResponse, error) {
	return srv.main.ServerSideEmitWithAck(ctx, event, args...)
}

// ServerCount returns the number of servers serving the main namespace,
// this one included.
func (srv *Server) ServerCount(ctx context.Context) (int, error) { return srv.main.ServerCount(ctx) }
