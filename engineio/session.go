package engineio

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosio/gosio/engineio/parser"
	"github.com/gosio/gosio/internal/lazylog"
)

// Session is one Engine.IO connection: a client, whichever transport it
// currently uses. It is created by the [Server] on a successful handshake
// and handed to the connection callback.
//
// All methods are safe for concurrent use. Event callbacks (OnMessage,
// OnClose, …) must be registered inside the connection callback, before
// the session is shared with other goroutines; they are
// called one at a time, in order, from the goroutine that read the packets
// (the WebSocket reader or the polling POST handler), so a callback that
// blocks stalls only its own session. OnDrain and OnPacketCreate are the
// exceptions: they run on the writing and the sending goroutine.
type Session struct {
	id        string
	srv       *Server
	req       *http.Request
	query     url.Values // of the handshake request
	ctx       context.Context
	cancelCtx context.CancelFunc

	h          handlers
	configured atomic.Bool // set once the connection callback has returned

	// dispatch serialises the delivery of incoming packets, so callbacks
	// never run concurrently even when a misbehaving client uses two
	// transports at once.
	dispatch     sync.Mutex
	closePending atomic.Bool // the close callback waits for the dispatcher
	closeEv      closeEvent  // what the close callback reports; set once, under mu

	mu          sync.Mutex
	state       sessionState
	closeReason Reason // reason to report once a graceful close completes
	transport   string
	queue       []*Message
	spare       []*Message
	queueCost   int

	pollActive bool          // a polling GET is waiting or being answered
	pollWake   chan struct{} // wakes the waiting GET; capacity 1; nil for a session born on WebSocket
	postActive bool          // a polling POST is being read
	pollFinal  *Message      // what a GET still pending at close receives

	ws      *wsConn // the WebSocket transport, once in use
	writing bool    // a writer goroutine owns ws writes

	upgrading    bool    // a WebSocket upgrade is in progress
	upgraded     bool    // the session has upgraded to WebSocket
	probe        *wsConn // the WebSocket being upgraded to
	upgradeTimer *time.Timer

	hbTimer     *time.Timer
	hbGen       uint64
	hbAwaitPong bool
	closeTimer  *time.Timer

	done chan struct{} // closed when the session is closed and OnClose returned
}

type sessionState uint8

const (
	stateOpen    sessionState = iota
	stateClosing              // flushing the queue before the close packet
	stateClosed
)

type closeEvent struct {
	reason Reason
	err    error
}

type handlers struct {
	message      func(data []byte, binary bool)
	packet       func(parser.Packet)
	packetCreate func(parser.Packet)
	upgrade      func(transport string)
	drain        func()
	close        func(reason Reason, err error)
}

var (
	errOverlapGET       = errors.New("overlap from client")
	errOverlapPOST      = errors.New("data request overlap from client")
	errPollClosed       = errors.New("poll connection closed prematurely")
	errPostClosed       = errors.New("data request connection closed prematurely")
	errInvalidContent   = errors.New("invalid content")
	errInvalidHeartbeat = errors.New("invalid heartbeat direction")
)

func newSession(srv *Server, id, transport string, r *http.Request, query url.Values) *Session {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Session{
		id:        id,
		srv:       srv,
		ctx:       ctx,
		cancelCtx: cancel,
		transport: transport,
		query:     query,
		done:      make(chan struct{}),
	}
	if transport == TransportPolling {
		// Only a session born polling serves polling requests.
		s.pollWake = make(chan struct{}, 1)
	}
	s.req = r.WithContext(ctx)
	return s
}

// log returns the session's logger: the server's, with the session id.
// Built on each call, it costs no memory while the session is idle, and
// formats nothing unless a record is enabled.
func (s *Session) log() *slog.Logger {
	return lazylog.With(s.srv.log, slog.String("sid", s.id))
}

// ID returns the session id (the "sid" query parameter).
func (s *Session) ID() string { return s.id }

// Transport returns the name of the transport in use: "polling" or
// "websocket". It changes once, on upgrade.
func (s *Session) Transport() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.transport
}

// Request returns the handshake request: its headers, query, remote
// address and TLS state. Its body has been consumed. Its context is the
// session's [Session.Context].
func (s *Session) Request() *http.Request { return s.req }

// Query returns the query parameters of the handshake request, parsed
// once: the values of Request().URL.Query(). It must not be modified.
func (s *Session) Query() url.Values { return s.query }

// Protocol returns the Engine.IO protocol revision in use: 4.
func (s *Session) Protocol() int { return 4 }

// Context returns a context that is cancelled when the session closes.
func (s *Session) Context() context.Context { return s.ctx }

// Done returns a channel that is closed once the session is closed and its
// OnClose callback has returned.
func (s *Session) Done() <-chan struct{} { return s.done }

// LogValue implements slog.LogValuer.
func (s *Session) LogValue() slog.Value {
	return slog.GroupValue(slog.String("sid", s.id), slog.String("transport", s.Transport()))
}

func (s *Session) mustConfigure(name string) {
	if s.configured.Load() {
		panic("engineio: Session." + name + " called outside the connection callback")
	}
}

// OnMessage registers the callback for message packets. data belongs to
// the callback. It must be called from the connection callback.
func (s *Session) OnMessage(fn func(data []byte, binary bool)) {
	s.mustConfigure("OnMessage")
	s.h.message = fn
}

// OnPacket registers a callback for every packet received, before it is
// handled (Node's "packet" event). It must be called from the connection
// callback.
func (s *Session) OnPacket(fn func(p Packet)) {
	s.mustConfigure("OnPacket")
	s.h.packet = fn
}

// OnPacketCreate registers a callback for every packet queued for sending
// (Node's "packetCreate"). It runs on the sending goroutine and must not
// block. It must be called from the connection callback.
func (s *Session) OnPacketCreate(fn func(p Packet)) {
	s.mustConfigure("OnPacketCreate")
	s.h.packetCreate = fn
}

// OnUpgrade registers the callback run once the session has upgraded to
// another transport. It must be called from the connection callback.
func (s *Session) OnUpgrade(fn func(transport string)) {
	s.mustConfigure("OnUpgrade")
	s.h.upgrade = fn
}

// OnDrain registers the callback run each time the send queue has been
// written out completely. It must be called from the connection callback.
func (s *Session) OnDrain(fn func()) {
	s.mustConfigure("OnDrain")
	s.h.drain = fn
}

// OnClose registers the callback run exactly once when the session
// closes, with the reason and, for errors, the cause. It must be called
// from the connection callback.
func (s *Session) OnClose(fn func(reason Reason, err error)) {
	s.mustConfigure("OnClose")
	s.h.close = fn
}

// Send queues a text message. It never blocks. It takes ownership of data.
// It returns [ErrSessionClosed] once the session is closing, and
// [ErrSlowConsumer] (closing the session) when the send queue is full.
func (s *Session) Send(data []byte) error {
	return s.SendMessages(NewMessage(data, false))
}

// SendBinary queues a binary message, like [Session.Send].
func (s *Session) SendBinary(data []byte) error {
	return s.SendMessages(NewMessage(data, true))
}

// SendMessages queues msgs, all or none, in order and without any other
// packet in between (Socket.IO sends an event and its binary attachments
// this way). It never blocks; errors are those of [Session.Send].
func (s *Session) SendMessages(msgs ...*Message) error {
	if h := s.h.packetCreate; h != nil {
		for _, m := range msgs {
			h(m.packet())
		}
	}
	cost := 0
	for _, m := range msgs {
		cost += m.cost()
	}
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return ErrSessionClosed
	}
	// A single message larger than the bound still goes out on an empty
	// queue: the bound is against clients that do not read, not against
	// big messages.
	if s.queueCost > 0 && s.queueCost+cost > s.srv.cfg.maxBufferedBytes {
		s.mu.Unlock()
		s.log().Debug("engineio: send queue full, closing slow client", "queued_bytes", s.queueCost)
		s.terminate(ReasonSlowConsumer, ErrSlowConsumer, false)
		return ErrSlowConsumer
	}
	s.queue = append(s.queue, msgs...)
	s.queueCost += cost
	s.kickLocked()
	s.mu.Unlock()
	return nil
}

// SendVolatile queues msgs only if the transport can write them at once
// (Node's volatile packets, dropped when the transport is not writable):
// a polling GET is waiting, or the WebSocket writer is idle, and nothing
// else is queued. It reports whether the messages were queued.
func (s *Session) SendVolatile(msgs ...*Message) bool {
	s.mu.Lock()
	writable := s.state == stateOpen && len(s.queue) == 0 &&
		(s.transport == TransportPolling && s.pollActive || s.transport == TransportWebSocket && s.ws != nil && !s.writing)
	if !writable {
		s.mu.Unlock()
		return false
	}
	for _, m := range msgs {
		s.queue = append(s.queue, m)
		s.queueCost += m.cost()
	}
	s.kickLocked()
	s.mu.Unlock()
	if h := s.h.packetCreate; h != nil {
		for _, m := range msgs {
			h(m.packet())
		}
	}
	return true
}

// enqueueLocked queues an internal control packet, outside the bound.
func (s *Session) enqueueLocked(m *Message) {
	s.queue = append(s.queue, m)
	s.queueCost += m.cost()
	s.kickLocked()
}

// kickLocked makes the transport write what is queued: it wakes a waiting
// polling GET, or starts the WebSocket writer if none runs.
func (s *Session) kickLocked() {
	if s.transport == TransportPolling {
		s.wakePollLocked()
		return
	}
	if !s.writing && s.ws != nil {
		s.writing = true
		s.startWriter()
	}
}

// startWriter starts the WebSocket writer goroutine. It allocates
// nothing: waking the writer is on the path of every broadcast to an
// idle session.
func (s *Session) startWriter() {
	s.srv.wg.Add(1)
	go s.runWriter()
}

func (s *Session) runWriter() {
	defer s.srv.wg.Done()
	s.writeLoop()
}

func (s *Session) wakePollLocked() {
	select {
	case s.pollWake <- struct{}{}:
	default:
	}
}

// takeQueueLocked removes and returns everything queued.
func (s *Session) takeQueueLocked() []*Message {
	q := s.queue
	s.queue, s.spare = s.spare, nil
	s.queueCost = 0
	return q
}

// recycleLocked keeps a drained batch's array for the next one, unless it
// grew large: an idle session should hold little memory.
func (s *Session) recycleLocked(batch []*Message) {
	clear(batch)
	if s.spare == nil && cap(batch) <= 64 {
		s.spare = batch[:0]
	}
}

// Close closes the session from the server side (reason "forced close"):
// what is queued is still delivered, then the close packet. It returns at
// once; OnClose runs when the close completes. Closing a closed session
// does nothing.
func (s *Session) Close() error {
	s.closeGracefully(ReasonForcedClose)
	return nil
}

// closeGracefully flushes the queue, sends the close packet, then closes
// with reason. A client that never collects its last packets is closed
// after PingInterval+PingTimeout.
func (s *Session) closeGracefully(reason Reason) {
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return
	}
	s.state = stateClosing
	s.closeReason = reason
	s.stopHeartbeatLocked()
	grace := s.srv.cfg.pingInterval + s.srv.cfg.pingTimeout
	s.closeTimer = time.AfterFunc(grace, func() { s.terminate(reason, nil, false) })
	probe := s.abortUpgradeLocked()
	if s.transport == TransportPolling {
		s.wakePollLocked()
	} else if !s.writing && s.ws != nil {
		s.writing = true
		s.startWriter()
	}
	s.mu.Unlock()
	if probe != nil {
		probe.close()
	}
}

// terminate closes the session now with reason. flushed tells that the
// transport already delivered the close (graceful path): the WebSocket is
// then left to finish its closing handshake instead of being cut.
func (s *Session) terminate(reason Reason, cause error, flushed bool) {
	s.mu.Lock()
	if s.state == stateClosed {
		s.mu.Unlock()
		return
	}
	s.state = stateClosed
	s.stopHeartbeatLocked()
	if s.closeTimer != nil {
		s.closeTimer.Stop()
	}
	clear(s.queue)
	s.queue, s.spare, s.queueCost = nil, nil, 0
	if reason == ReasonTransportClose {
		s.pollFinal = msgNoop // the client asked: release its GET quietly
	} else {
		s.pollFinal = msgClose
	}
	s.wakePollLocked()
	s.closeEv = closeEvent{reason, cause}
	ws := s.ws
	probe := s.abortUpgradeLocked()
	s.mu.Unlock()

	s.cancelCtx()
	s.srv.removeSession(s)
	if ws != nil {
		if flushed {
			ws.closeAfterHandshake()
		} else {
			ws.close()
		}
	}
	if probe != nil {
		probe.close()
	}
	// Every session passes here: build its logger only if it will log.
	if s.srv.log.Enabled(context.Background(), slog.LevelDebug) {
		if cause != nil {
			s.log().Debug("engineio: session closed", "reason", string(reason), "err", cause)
		} else {
			s.log().Debug("engineio: session closed", "reason", string(reason))
		}
	}
	s.fireClose()
}

// fireClose runs the close callback exactly once, never concurrently with
// another event callback: if a dispatcher is delivering packets (perhaps
// the very callback that caused the close), it runs the close callback
// when it is done (releaseDispatch).
func (s *Session) fireClose() {
	if s.dispatch.TryLock() {
		s.runCloseLocked()
		s.dispatch.Unlock()
		return
	}
	s.closePending.Store(true)
	// The dispatcher may have finished between the two steps.
	if s.dispatch.TryLock() {
		if s.closePending.CompareAndSwap(true, false) {
			s.runCloseLocked()
		}
		s.dispatch.Unlock()
	}
}

// releaseDispatch ends a delivery of packets begun with s.dispatch.Lock,
// running a close callback that waited for it.
func (s *Session) releaseDispatch() {
	s.dispatch.Unlock()
	if s.closePending.CompareAndSwap(true, false) {
		s.dispatch.Lock()
		s.runCloseLocked()
		s.dispatch.Unlock()
	}
}

func (s *Session) runCloseLocked() {
	defer close(s.done)
	s.mu.Lock()
	ev := s.closeEv
	s.mu.Unlock()
	if h := s.h.close; h != nil {
		h(ev.reason, ev.err)
	}
}

// cutTransport closes the session's WebSocket at once, even if it is in
// its closing handshake.
func (s *Session) cutTransport() {
	s.mu.Lock()
	ws := s.ws
	s.mu.Unlock()
	if ws != nil {
		ws.close()
	}
}

// abortUpgradeLocked cancels an upgrade in progress and returns the
// WebSocket to close (outside the lock), if any.
func (s *Session) abortUpgradeLocked() *wsConn {
	if s.upgradeTimer != nil {
		s.upgradeTimer.Stop()
		s.upgradeTimer = nil
	}
	p := s.probe
	s.probe = nil
	s.upgrading = false
	return p
}

// handlePacket acts on one packet received on the session's current
// transport. The caller holds s.dispatch.
func (s *Session) handlePacket(p parser.Packet) {
	s.mu.Lock()
	open := s.state == stateOpen
	s.mu.Unlock()
	if !open {
		return // Node ignores packets once closing
	}
	if h := s.h.packet; h != nil {
		h(p)
	}
	switch p.Type {
	case parser.Message:
		if h := s.h.message; h != nil {
			h(p.Data, p.Binary)
		}
	case parser.Pong:
		s.onPong()
	case parser.Ping:
		// In protocol v4 only the server pings.
		s.terminate(ReasonTransportError, errInvalidHeartbeat, false)
	case parser.Close:
		s.terminate(ReasonTransportClose, nil, false)
	}
}

func (s *Session) emitDrain() {
	if h := s.h.drain; h != nil {
		h()
	}
}

// start runs once the connection callback returned: events may flow.
func (s *Session) start() {
	s.configured.Store(true)
	s.mu.Lock()
	if s.state == stateOpen {
		s.scheduleHeartbeatLocked(s.srv.cfg.pingInterval)
	}
	s.mu.Unlock()
}

// Packet is an Engine.IO packet, as passed to OnPacket and OnPacketCreate.
type Packet = parser.Packet
