package socketio

import (
	"context"
	"maps"
	"regexp"
	"slices"
	"sync"

	"github.com/go-json-experiment/json/jsontext"
)

// ParentNamespace creates namespaces on demand: when a client connects to
// a name that no namespace has and that the parent matches, a child
// namespace is created with the parent's middleware and handlers (Node's
// dynamic namespaces, io.of(regexp) / io.of(fn)). Middleware and handlers
// are copied when a child is created: register them before clients come.
type ParentNamespace struct {
	srv   *Server
	match func(name string, auth jsontext.Value) bool
	tmpl  *Namespace // holds the registrations; never serves sockets

	mu       sync.Mutex
	children map[string]*Namespace
	onChild  []func(ns *Namespace)
}

// OfRegexp returns a parent namespace for the names re matches.
func (srv *Server) OfRegexp(re *regexp.Regexp) *ParentNamespace {
	return srv.OfFunc(func(name string, _ jsontext.Value) bool { return re.MatchString(name) })
}

// OfFunc returns a parent namespace for the names match accepts; match
// also sees the client's CONNECT payload (auth).
func (srv *Server) OfFunc(match func(name string, auth jsontext.Value) bool) *ParentNamespace {
	p := &ParentNamespace{
		srv:      srv,
		match:    match,
		tmpl:     &Namespace{srv: srv, handlers: map[string][]EventHandler{}, serverEvts: map[string][]EventHandler{}, sockets: map[string]*Socket{}},
		children: make(map[string]*Namespace),
	}
	srv.mu.Lock()
	srv.parents = append(srv.parents, p)
	srv.mu.Unlock()
	return p
}

// Use adds connection middleware to every child (see [Namespace.Use]).
func (p *ParentNamespace) Use(fn func(ctx context.Context, s *Socket) error) { p.tmpl.Use(fn) }

// OnConnection registers fn for every child (see [Namespace.OnConnection]).
func (p *ParentNamespace) OnConnection(fn func(ctx context.Context, s *Socket) error) {
	p.tmpl.OnConnection(fn)
}

// OnDisconnect registers fn for every child (see [Namespace.OnDisconnect]).
func (p *ParentNamespace) OnDisconnect(fn func(s *Socket, reason Reason)) { p.tmpl.OnDisconnect(fn) }

// On registers h for event in every child.
func (p *ParentNamespace) On(event string, h EventHandlerFunc) { p.tmpl.On(event, h) }

// Handle registers h for event in every child.
func (p *ParentNamespace) Handle(event string, h EventHandler) { p.tmpl.Handle(event, h) }

// OnNamespace registers fn, run with every child when it is created.
func (p *ParentNamespace) OnNamespace(fn func(ns *Namespace)) {
	p.mu.Lock()
	p.onChild = append(p.onChild, fn)
	p.mu.Unlock()
}

// Children returns the child namespaces that exist now.
func (p *ParentNamespace) Children() []*Namespace {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Collect(maps.Values(p.children))
}

// Emit sends an event to every socket of every child.
func (p *ParentNamespace) Emit(event string, args ...any) error {
	for _, ns := range p.Children() {
		if err := ns.Emit(event, args...); err != nil {
			return err
		}
	}
	return nil
}

// newChild creates the child namespace name (srv.mu held by the caller).
func (p *ParentNamespace) newChild(name string) (*Namespace, error) {
	ns, err := newNamespace(p.srv, name)
	if err != nil {
		return nil, err
	}
	ns.parent = p
	t := p.tmpl
	t.mu.RLock()
	ns.middlewares = slices.Clone(t.middlewares)
	ns.onConnect = slices.Clone(t.onConnect)
	ns.onDisconn = slices.Clone(t.onDisconn)
	for k, v := range t.handlers {
		ns.handlers[k] = slices.Clone(v)
	}
	for k, v := range t.serverEvts {
		ns.serverEvts[k] = slices.Clone(v)
	}
	t.mu.RUnlock()
	p.mu.Lock()
	p.children[name] = ns
	hooks := slices.Clone(p.onChild)
	p.mu.Unlock()
	for _, fn := range hooks {
		fn(ns)
	}
	return ns, nil
}
