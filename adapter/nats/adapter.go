package natsadapter

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/nats-io/nats.go"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/adapter/memory"
	"github.com/gosio/gosio/adapter/nats/internal/wire"
	"github.com/gosio/gosio/socketio/parser"
)

// Sentinel errors. Errors of the adapter wrap them, or nats.go's own
// (nats.ErrMaxPayload, nats.ErrPermissionViolation, …), for errors.Is.
var (
	// ErrNotConnected reports that the NATS connection was down (it is
	// reconnecting, or closed): local delivery happened, the other
	// servers were not reached. The adapter fails fast rather than
	// buffering cluster messages for later.
	ErrNotConnected = errors.New("natsadapter: not connected to NATS")
	// ErrPayloadTooLarge reports a cluster message larger than the NATS
	// server's max_payload. It also wraps nats.ErrMaxPayload.
	ErrPayloadTooLarge = errors.New("natsadapter: message exceeds the NATS max_payload")
)

// New returns the adapter factory of a NATS cluster: give it to
// socketio.Options.Adapter. Every namespace gets its own [Adapter], with
// its own identity in the cluster, over nc. nc stays the caller's: close
// (or drain) it after the Socket.IO server has shut down.
//
// Errors in opts are reported by the factory, when the server creates its
// first namespace.
func New(nc *nats.Conn, opts ...Option) adapter.Factory {
	cfg, cfgErr := newConfig(opts)
	return func(ns adapter.Namespace) (adapter.Adapter, error) {
		if cfgErr != nil {
			return nil, cfgErr
		}
		if nc == nil {
			return nil, errors.New("natsadapter: nil *nats.Conn")
		}
		a, err := start(nc, ns, cfg)
		if err != nil {
			return nil, err // not a nil *Adapter in a non-nil interface
		}
		return a, nil
	}
}

// Connect connects to the NATS servers at url (a comma-separated list)
// with options suited to the adapter: reconnect forever, retry a failed
// first connect, allow 10 s per connection attempt, and log
// disconnections, reconnections and asynchronous errors to log (nil: no
// logs). opts come after and override them.
func Connect(url string, log *slog.Logger, opts ...nats.Option) (*nats.Conn, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	base := []nats.Option{
		nats.Name("gosio"),
		nats.Timeout(10 * time.Second), // dial and handshake, per attempt
		nats.MaxReconnects(-1),
		nats.RetryOnFailedConnect(true),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			if nc.IsClosed() {
				return // closed or drained on purpose
			}
			log.Warn("natsadapter: disconnected from NATS", "err", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("natsadapter: reconnected to NATS", "url", nc.ConnectedUrlRedacted())
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			if sub != nil {
				log.Error("natsadapter: NATS error", "subject", sub.Subject, "err", err)
				return
			}
			log.Error("natsadapter: NATS error", "err", err)
		}),
	}
	nc, err := nats.Connect(url, append(base, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("natsadapter: connect %s: %w", url, err)
	}
	return nc, nil
}

// Adapter is the NATS adapter of one namespace: a memory adapter for the
// sockets of this server, plus the cluster protocol over NATS. It is safe
// for concurrent use.
type Adapter struct {
	nc    *nats.Conn
	cfg   config
	ns    adapter.Namespace
	nsp   string
	uid   string
	local *memory.Adapter
	log   *slog.Logger

	subject string // namespace-wide: every server of the namespace reads it
	inbox   string // this server's: answers to its requests
	subs    []*nats.Subscription
	status  chan nats.Status

	lastPublish atomic.Int64 // unix nanos, for the heartbeat timer

	mu       sync.Mutex
	nodes    map[string]time.Time // live peers: uid → last heard of
	requests map[string]*request  // fetchSockets, serverSideEmit with ack
	acks     map[string]*ackRequest
	closed   bool

	ctx      context.Context // canceled by Close
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	testHook func() // from config, set before the subscriptions start
}

var _ adapter.Adapter = (*Adapter)(nil)

// SubjectToken returns the subject token of namespace nsp: its name in
// unpadded base64url ("/" is "Lw", "/chat" is "L2NoYXQ"), since names may
// hold characters NATS subjects cannot.
func SubjectToken(nsp string) string { return base64.RawURLEncoding.EncodeToString([]byte(nsp)) }

func start(nc *nats.Conn, ns adapter.Namespace, cfg config) (*Adapter, error) {
	var id [8]byte
	_, _ = rand.Read(id[:])
	a := &Adapter{
		nc:       nc,
		cfg:      cfg,
		ns:       ns,
		nsp:      ns.Name(),
		uid:      hex.EncodeToString(id[:]),
		local:    memory.NewAdapter(ns),
		nodes:    make(map[string]time.Time),
		requests: make(map[string]*request),
		acks:     make(map[string]*ackRequest),
	}
	a.subject = cfg.prefix + "." + SubjectToken(a.nsp)
	a.inbox = a.subject + "." + a.uid
	a.log = cfg.log.With("nsp", a.nsp, "uid", a.uid)
	a.ctx, a.cancel = context.WithCancel(context.Background())
	a.testHook = cfg.testHook

	for _, s := range []struct {
		subject string
		handle  nats.MsgHandler
	}{{a.subject, a.onMessage}, {a.inbox, a.onResponse}} {
		sub, err := nc.Subscribe(s.subject, s.handle)
		if err == nil {
			err = sub.SetPendingLimits(cfg.pendingMsgs, cfg.pendingBytes)
		}
		if err != nil {
			a.unsubscribe()
			a.cancel()
			return nil, fmt.Errorf("natsadapter: subscribe to %s: %w", s.subject, err)
		}
		a.subs = append(a.subs, sub)
	}
	// Watched from now on, so that no reconnection after this point goes
	// without a hello.
	a.status = nc.StatusChanged(nats.CONNECTED, nats.DISCONNECTED, nats.RECONNECTING, nats.CLOSED)
	// Announce ourselves on the namespace subject, and send a probe to our
	// own inbox, then wait for the PONG of a PING sent after them. NATS
	// answers a connection in order: by then both messages have come back
	// to our subscriptions, unless NATS refused the subscription or the
	// publication (a permission violation), whatever else happens on the
	// connection meanwhile.
	err := a.publish(a.subject, &wire.Message{UID: a.uid, NSP: a.nsp, Type: wire.InitialHeartbeat})
	if err == nil {
		err = a.publish(a.inbox, &wire.Message{UID: a.uid, NSP: a.nsp, Type: wire.Heartbeat})
	}
	if err == nil {
		err = nc.FlushTimeout(cfg.startTimeout)
	}
	if err == nil && !nc.Opts.NoEcho { // without echo, our messages never come back
		for _, sub := range a.subs {
			if received(sub) {
				continue
			}
			a.unsubscribe()
			a.cancel()
			nc.RemoveStatusListener(a.status)
			if last := nc.LastError(); errors.Is(last, nats.ErrPermissionViolation) {
				return nil, fmt.Errorf("natsadapter: namespace %q: subject %s: %w", a.nsp, sub.Subject, last)
			}
			return nil, fmt.Errorf("natsadapter: namespace %q: subject %s receives nothing (refused by NATS?)", a.nsp, sub.Subject)
		}
	}
	if err != nil {
		// Not fatal: nats.go replays the subscriptions when it reconnects,
		// and the status watcher announces us again then.
		a.log.Warn("natsadapter: NATS not reachable at start; the namespace serves this server only until it is", "err", err)
	}
	a.wg.Add(1)
	go a.loop()
	a.log.Debug("natsadapter: started", "subject", a.subject)
	return a, nil
}

// received reports whether sub has received a message, handled or not.
func received(sub *nats.Subscription) bool {
	n, _, _ := sub.Pending()
	d, _ := sub.Delivered()
	return n > 0 || d > 0
}

func (a *Adapter) unsubscribe() {
	for _, s := range a.subs {
		_ = s.Unsubscribe()
	}
}

// UID returns the identity of this adapter in the cluster (the uid of its
// messages, and the names in [adapter.PartialError.Missing]).
func (a *Adapter) UID() string { return a.uid }

// ---------------------------------------------------------------- local

// AddAll implements [adapter.Adapter].
func (a *Adapter) AddAll(s adapter.LocalSocket, rooms ...string) { a.local.AddAll(s, rooms...) }

// Del implements [adapter.Adapter].
func (a *Adapter) Del(id, room string) { a.local.Del(id, room) }

// DelAll implements [adapter.Adapter].
func (a *Adapter) DelAll(id string) { a.local.DelAll(id) }

// SocketRooms implements [adapter.Adapter].
func (a *Adapter) SocketRooms(id string) []string { return a.local.SocketRooms(id) }

// Rooms implements [adapter.Adapter]: the rooms of this server.
func (a *Adapter) Rooms() []string { return a.local.Rooms() }

// Sockets implements [adapter.Adapter]: the sockets of this server.
func (a *Adapter) Sockets(rooms ...string) []string { return a.local.Sockets(rooms...) }

// PersistSession implements [adapter.Adapter]. Sessions are kept by the
// server the socket was connected to (see the package doc).
func (a *Adapter) PersistSession(s *adapter.Session) { a.local.PersistSession(s) }

// RestoreSession implements [adapter.Adapter].
func (a *Adapter) RestoreSession(ctx context.Context, pid, offset string) (*adapter.Session, error) {
	return a.local.RestoreSession(ctx, pid, offset)
}

// ---------------------------------------------------------------- cluster operations

// Broadcast implements [adapter.Adapter]. The other servers are reached
// first, then the local sockets; a failure to reach the others (too
// large, not connected) is returned after the local delivery.
func (a *Adapter) Broadcast(p *parser.Packet, opts adapter.BroadcastOptions) error {
	var err error
	if !opts.Flags.Local {
		err = a.publishBroadcast(p, opts, "")
	}
	if lerr := a.local.Broadcast(p, opts); lerr != nil {
		return lerr
	}
	return err
}

func (a *Adapter) publishBroadcast(p *parser.Packet, opts adapter.BroadcastOptions, requestID string) error {
	wp, err := wire.PacketToWire(p)
	if err != nil {
		return fmt.Errorf("natsadapter: broadcast: %w", err)
	}
	return a.publish(a.subject, &wire.Message{UID: a.uid, NSP: a.nsp, Type: wire.Broadcast, Data: &wire.BroadcastData{
		Opts: wire.OptsFromBroadcast(opts), Packet: wp, RequestID: requestID,
	}})
}

// BroadcastWithAck implements [adapter.Adapter]. Each other server
// answers with its client count, then with each client's ack (a Node
// peer sends the first argument of each only). The request is
// forgotten when ctx is done, or after the options' timeout or the
// request timeout (whichever comes first).
func (a *Adapter) BroadcastWithAck(ctx context.Context, p *parser.Packet, opts adapter.BroadcastOptions, onCount func(int), onAck func(*parser.Packet)) error {
	var err error
	if !opts.Flags.Local {
		id := newRequestID()
		r := &ackRequest{onCount: onCount, onAck: onAck}
		a.mu.Lock()
		closed := a.closed
		if !closed {
			a.acks[id] = r
		}
		a.mu.Unlock()
		if closed {
			err = adapter.ErrClosed
		} else {
			rctx, cancel := a.requestContext(ctx, opts.Flags.Timeout)
			context.AfterFunc(rctx, func() {
				cancel()
				a.mu.Lock()
				delete(a.acks, id)
				a.mu.Unlock()
			})
			if err = a.publishBroadcast(p, opts, id); err != nil {
				cancel()
			}
		}
	}
	if lerr := a.local.BroadcastWithAck(ctx, p, opts, onCount, onAck); lerr != nil {
		return lerr
	}
	return err
}

// requestContext derives the context of a cluster request: ctx, bounded
// by timeout when positive, and by the request timeout when ctx has no
// deadline; it also ends when the adapter closes.
func (a *Adapter) requestContext(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if timeout <= 0 {
		if _, ok := ctx.Deadline(); !ok {
			timeout = a.cfg.requestTimeout
		}
	}
	var cancel, stop context.CancelFunc
	if timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, timeout)
	} else {
		ctx, cancel = context.WithCancel(ctx)
	}
	stopAfter := context.AfterFunc(a.ctx, cancel)
	stop = func() { stopAfter(); cancel() }
	return ctx, stop
}

// FetchSockets implements [adapter.Adapter]: the local sockets, plus
// every live peer's answer.
func (a *Adapter) FetchSockets(ctx context.Context, opts adapter.BroadcastOptions) ([]adapter.SocketInfo, error) {
	local, err := a.local.FetchSockets(ctx, opts)
	if err != nil || opts.Flags.Local {
		return local, err
	}
	r, id, err := a.newRequest(wire.FetchSockets)
	if err != nil || r == nil {
		return local, err
	}
	r.sockets = local
	err = a.publish(a.subject, &wire.Message{UID: a.uid, NSP: a.nsp, Type: wire.FetchSockets, Data: &wire.FetchSocketsData{
		Opts: wire.OptsFromBroadcast(opts), RequestID: id,
	}})
	if err != nil {
		a.dropRequest(id)
		return local, err
	}
	err = a.wait(ctx, opts.Flags.Timeout, id, r)
	a.mu.Lock()
	defer a.mu.Unlock()
	return r.sockets, err
}

// AddSockets implements [adapter.Adapter].
func (a *Adapter) AddSockets(opts adapter.BroadcastOptions, rooms []string) error {
	return a.roomsCommand(wire.SocketsJoin, opts, rooms, a.local.AddSockets)
}

// DelSockets implements [adapter.Adapter].
func (a *Adapter) DelSockets(opts adapter.BroadcastOptions, rooms []string) error {
	return a.roomsCommand(wire.SocketsLeave, opts, rooms, a.local.DelSockets)
}

func (a *Adapter) roomsCommand(t wire.MessageType, opts adapter.BroadcastOptions, rooms []string, local func(adapter.BroadcastOptions, []string) error) error {
	var err error
	if !opts.Flags.Local {
		err = a.publish(a.subject, &wire.Message{UID: a.uid, NSP: a.nsp, Type: t, Data: &wire.SocketsRoomsData{
			Opts: wire.OptsFromBroadcast(opts), Rooms: nonNil(rooms),
		}})
	}
	if lerr := local(opts, rooms); lerr != nil {
		return lerr
	}
	return err
}

// DisconnectSockets implements [adapter.Adapter].
func (a *Adapter) DisconnectSockets(opts adapter.BroadcastOptions, close bool) error {
	var err error
	if !opts.Flags.Local {
		err = a.publish(a.subject, &wire.Message{UID: a.uid, NSP: a.nsp, Type: wire.DisconnectSockets, Data: &wire.DisconnectSocketsData{
			Opts: wire.OptsFromBroadcast(opts), Close: close,
		}})
	}
	if lerr := a.local.DisconnectSockets(opts, close); lerr != nil {
		return lerr
	}
	return err
}

// ServerSideEmit implements [adapter.Adapter].
func (a *Adapter) ServerSideEmit(data jsontext.Value, attachments [][]byte) error {
	packet, err := toWireArray(data, attachments)
	if err != nil {
		return fmt.Errorf("natsadapter: serverSideEmit: %w", err)
	}
	return a.publish(a.subject, &wire.Message{UID: a.uid, NSP: a.nsp, Type: wire.ServerSideEmit, Data: &wire.ServerSideEmitData{Packet: packet}})
}

// ServerSideEmitWithAck implements [adapter.Adapter]. Each answer holds
// the arguments of a peer's ack (a Node peer sends the first one only).
func (a *Adapter) ServerSideEmitWithAck(ctx context.Context, data jsontext.Value, attachments [][]byte) ([]adapter.Response, error) {
	packet, err := toWireArray(data, attachments)
	if err != nil {
		return nil, fmt.Errorf("natsadapter: serverSideEmit: %w", err)
	}
	r, id, err := a.newRequest(wire.ServerSideEmit)
	if err != nil || r == nil {
		return nil, err
	}
	err = a.publish(a.subject, &wire.Message{UID: a.uid, NSP: a.nsp, Type: wire.ServerSideEmit, Data: &wire.ServerSideEmitData{
		RequestID: id, Packet: packet,
	}})
	if err != nil {
		a.dropRequest(id)
		return nil, err
	}
	err = a.wait(ctx, 0, id, r)
	a.mu.Lock()
	defer a.mu.Unlock()
	return r.responses, err
}

// ServerCount implements [adapter.Adapter]: this server and the peers
// heard of within the heartbeat timeout.
func (a *Adapter) ServerCount(context.Context) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return 1 + len(a.nodes), nil
}

// Close implements [adapter.Adapter]: it says goodbye (ADAPTER_CLOSE, so
// that peers drop this server at once), ends pending requests with
// adapter.ErrClosed, stops the heartbeats and unsubscribes. The NATS
// connection stays open.
func (a *Adapter) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	for _, r := range a.requests {
		r.finish(adapter.ErrClosed)
	}
	clear(a.requests)
	clear(a.acks)
	clear(a.nodes)
	a.cancel() // from now on, publish refuses and the callbacks do nothing
	a.mu.Unlock()

	a.nc.RemoveStatusListener(a.status)
	a.wg.Wait()
	var err error
	if a.nc.IsConnected() {
		err = a.publish(a.subject, &wire.Message{UID: a.uid, NSP: a.nsp, Type: wire.AdapterClose})
		if err == nil {
			err = a.nc.FlushTimeout(a.cfg.startTimeout)
		}
		if err != nil {
			err = fmt.Errorf("natsadapter: goodbye: %w", err)
		}
	}
	a.unsubscribe()
	_ = a.local.Close()
	a.log.Debug("natsadapter: closed")
	return err
}

// publish encodes m and publishes it on subject, failing fast when it is
// too large, NATS is not connected, or the adapter is closed.
func (a *Adapter) publish(subject string, m *wire.Message) error {
	if a.ctx.Err() != nil && m.Type != wire.AdapterClose { // closed
		return adapter.ErrClosed
	}
	b, err := wire.Encode(m)
	if err != nil {
		return fmt.Errorf("natsadapter: %v: %w", m.Type, err)
	}
	if limit := a.nc.MaxPayload(); limit > 0 && int64(len(b)) > limit {
		return fmt.Errorf("%w: %v of %d bytes, max_payload is %d (local delivery is not affected): %w",
			ErrPayloadTooLarge, m.Type, len(b), limit, nats.ErrMaxPayload)
	}
	if !a.nc.IsConnected() {
		return fmt.Errorf("%w: %v not sent (status %v)", ErrNotConnected, m.Type, a.nc.Status())
	}
	if err := a.nc.Publish(subject, b); err != nil {
		if errors.Is(err, nats.ErrConnectionReconnecting) || errors.Is(err, nats.ErrConnectionClosed) {
			return fmt.Errorf("%w: %v not sent: %w", ErrNotConnected, m.Type, err)
		}
		return fmt.Errorf("natsadapter: publish %v: %w", m.Type, err)
	}
	a.lastPublish.Store(time.Now().UnixNano())
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// toWireArray converts the JSON array of an event or ack (with its
// attachments) to its cluster form (see [wire.FromJSON]): objects in
// order, integers as integers, binaries as []byte. null is an empty
// array.
func toWireArray(data jsontext.Value, attachments [][]byte) ([]any, error) {
	v, err := wire.FromJSON(data, attachments)
	if err != nil {
		return nil, err
	}
	switch v := v.(type) {
	case []any:
		return v, nil
	case nil:
		return []any{}, nil
	}
	return nil, fmt.Errorf("natsadapter: JSON value of kind %v is not an array", data.Kind())
}

// ackToWire converts the arguments of an ack to a remote ack: the first
// one (nil when none), which is what Node reads, and all of them when
// there are several (the args extension).
func ackToWire(data jsontext.Value, attachments [][]byte) (first any, all []any, err error) {
	v, err := toWireArray(data, attachments)
	if err != nil || len(v) == 0 {
		return nil, nil, err
	}
	if len(v) > 1 {
		all = v
	}
	return v[0], all, nil
}

// ackFromWire converts a remote ack back to the JSON array of its
// arguments and their attachments (see [wire.ToJSON]).
func ackFromWire(first any, all []any) (jsontext.Value, [][]byte, error) {
	if all == nil {
		all = []any{first}
	}
	return wire.ToJSON(all)
}
