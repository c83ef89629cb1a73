package engineio

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gorilla/websocket"
)

// Server is an Engine.IO v4 server. It is an [http.Handler]: mount it on
// its path (mux.Handle("/engine.io/", srv)) in an http.Server you own.
//
// A Server is safe for concurrent use. Register the connection callback
// with [Server.OnConnection] before serving.
type Server struct {
	cfg *config
	log *slog.Logger

	onConnection atomic.Pointer[func(*Session)]

	mu       sync.RWMutex
	sessions map[string]*Session
	closed   bool
	wg       sync.WaitGroup // every goroutine the server starts, and every ServeHTTP in progress

	upgrader *websocket.Upgrader
}

// New returns a server configured by opts (nil means all defaults). It
// returns an error for options that make no sense.
func New(opts *Options) (*Server, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	srv := &Server{
		cfg:      cfg,
		log:      cfg.logger.With("component", "engineio"),
		sessions: make(map[string]*Session),
	}
	srv.upgrader = srv.newUpgrader()
	return srv, nil
}

// OnConnection registers fn, called for each new session before the
// session delivers any event (Node's "connection" event). Register the
// session's callbacks (OnMessage, OnClose, …) inside fn. fn runs on the
// handshake request's goroutine; messages it sends go out right after the
// handshake.
func (srv *Server) OnConnection(fn func(s *Session)) {
	srv.onConnection.Store(&fn)
}

// ClientsCount returns the number of open sessions.
func (srv *Server) ClientsCount() int {
	srv.mu.RLock()
	defer srv.mu.RUnlock()
	return len(srv.sessions)
}

// Session returns the open session with the given id, or nil.
func (srv *Server) Session(id string) *Session {
	srv.mu.RLock()
	defer srv.mu.RUnlock()
	return srv.sessions[id]
}

// Path returns the URL path prefix the server answers on.
func (srv *Server) Path() string { return srv.cfg.path }

// enter registers an HTTP request in progress. Once the server is closed
// only requests of sessions still closing get through, so that polling
// clients can collect their close packet. (Such a session keeps Shutdown
// waiting, so wg cannot be at zero in Wait here.)
func (srv *Server) enter(r *http.Request) bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.closed {
		sid := r.URL.Query().Get("sid")
		if sid == "" || srv.sessions[sid] == nil {
			return false
		}
	}
	srv.wg.Add(1)
	return true
}

// goSession runs fn on a goroutine the server waits for at shutdown. It
// is only called by a session that is open, or on a request registered by
// enter, so the WaitGroup never grows from zero after Shutdown's Wait.
func (srv *Server) goSession(fn func()) { srv.wg.Go(fn) }

func (srv *Server) removeSession(s *Session) {
	srv.mu.Lock()
	if srv.sessions[s.id] == s {
		delete(srv.sessions, s.id)
	}
	srv.mu.Unlock()
}

// ServeHTTP answers Engine.IO requests: handshakes, long-polling GETs and
// POSTs, and WebSocket upgrades.
func (srv *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, srv.cfg.path) {
		http.NotFound(w, r)
		return
	}
	if !srv.enter(r) {
		http.Error(w, ErrServerClosed.Error(), http.StatusServiceUnavailable)
		return
	}
	defer srv.wg.Done()

	if srv.cfg.cors != nil && srv.applyCORS(w, r) {
		return // preflight answered
	}
	q := r.URL.Query()
	transport := q.Get("transport")
	upgrade := isWebSocketUpgrade(r)
	sess, cerr := srv.verify(r, q, transport, upgrade)
	if cerr != nil {
		srv.reject(w, cerr, upgrade)
		return
	}
	switch {
	case sess == nil:
		srv.handshake(w, r, q, transport, upgrade)
	case upgrade:
		srv.upgrade(w, r, sess)
	default:
		sess.servePolling(w, r)
	}
}

// verify mirrors Node's Server.verify, in the same order, and returns the
// session the request belongs to (nil for a handshake).
func (srv *Server) verify(r *http.Request, q url.Values, transport string, upgrade bool) (*Session, *ConnectionError) {
	if !srv.transportEnabled(transport) {
		return nil, &ConnectionError{Request: r, Code: CodeUnknownTransport}
	}
	if origin := r.Header.Get("Origin"); origin != "" && !validHeaderValue(origin) {
		return nil, &ConnectionError{Request: r, Code: CodeBadRequest, Context: "INVALID_ORIGIN"}
	}
	if sid := q.Get("sid"); sid != "" {
		sess := srv.Session(sid)
		if sess == nil {
			return nil, &ConnectionError{Request: r, Code: CodeUnknownSID}
		}
		if !upgrade && sess.Transport() != transport {
			return nil, &ConnectionError{Request: r, Code: CodeBadRequest, Context: "TRANSPORT_MISMATCH"}
		}
		if upgrade && transport != TransportWebSocket {
			return nil, &ConnectionError{Request: r, Code: CodeBadRequest, Context: "TRANSPORT_MISMATCH"}
		}
		if upgrade && !srv.originAllowed(r) {
			return nil, &ConnectionError{Request: r, Code: CodeForbidden, Context: "CROSS_ORIGIN_WEBSOCKET"}
		}
		return sess, nil
	}
	if r.Method != http.MethodGet {
		return nil, &ConnectionError{Request: r, Code: CodeBadHandshakeMethod}
	}
	if transport == TransportWebSocket && !upgrade || transport == TransportPolling && upgrade {
		return nil, &ConnectionError{Request: r, Code: CodeBadRequest, Context: "TRANSPORT_HANDSHAKE_ERROR"}
	}
	if upgrade && !srv.originAllowed(r) {
		return nil, &ConnectionError{Request: r, Code: CodeForbidden, Context: "CROSS_ORIGIN_WEBSOCKET"}
	}
	if srv.cfg.allowRequest != nil {
		if err := srv.cfg.allowRequest(r); err != nil {
			return nil, &ConnectionError{Request: r, Code: CodeForbidden, Message: err.Error(), Err: err}
		}
	}
	if q.Get("EIO") != "4" {
		return nil, &ConnectionError{Request: r, Code: CodeUnsupportedProtocolVersion}
	}
	return nil, nil
}

func (srv *Server) transportEnabled(t string) bool {
	switch t {
	case TransportPolling:
		return srv.cfg.polling
	case TransportWebSocket:
		return srv.cfg.websocket
	}
	return false
}

// reject answers a refused request as Node's abortRequest (JSON body) or,
// for a WebSocket handshake, abortUpgrade (plain message, connection
// closed). Node answers every refused upgrade with 400; gosio answers 403
// when the code is Forbidden.
func (srv *Server) reject(w http.ResponseWriter, e *ConnectionError, upgrade bool) {
	if e.Message == "" {
		e.Message = e.Code.Message()
	}
	if srv.log.Enabled(e.Request.Context(), slog.LevelDebug) {
		srv.log.Debug("engineio: request rejected", "code", int(e.Code), "message", e.Message,
			"context", e.Context, "remote_addr", e.Request.RemoteAddr)
	}
	if h := srv.cfg.onConnectionError; h != nil {
		h(e)
	}
	if upgrade {
		w.Header().Set("Connection", "close")
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Length", strconv.Itoa(len(e.Message)))
		w.WriteHeader(e.Code.status())
		_, _ = w.Write([]byte(e.Message))
		return
	}
	body, _ := json.Marshal(struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}{int(e.Code), e.Message})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Code.status())
	_, _ = w.Write(body)
}

// handshakeData is the open packet's JSON, fields in Node's order.
type handshakeData struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int64    `json:"pingInterval"`
	PingTimeout  int64    `json:"pingTimeout"`
	MaxPayload   int64    `json:"maxPayload"`
}

func (srv *Server) handshake(w http.ResponseWriter, r *http.Request, q url.Values, transport string, upgrade bool) {
	id, err := srv.cfg.generateID(r)
	if err != nil || id == "" {
		if err == nil {
			err = errors.New("empty id")
		}
		srv.reject(w, &ConnectionError{Request: r, Code: CodeBadRequest, Context: "ID_GENERATION_ERROR", Err: err}, upgrade)
		return
	}
	s := newSession(srv, id, transport, r, q)
	upgrades := srv.cfg.transportsAdvertise
	if transport != TransportPolling {
		upgrades = []string{}
	}
	open, _ := json.Marshal(handshakeData{
		SID:          id,
		Upgrades:     upgrades,
		PingInterval: srv.cfg.pingInterval.Milliseconds(),
		PingTimeout:  srv.cfg.pingTimeout.Milliseconds(),
		MaxPayload:   srv.cfg.maxHTTPBufferSize,
	})
	openMsg := controlMessage(0, "")
	openMsg.data = open

	header := http.Header{}
	if ck := srv.cfg.cookie; ck != nil {
		header.Add("Set-Cookie", (&http.Cookie{
			Name: ck.Name, Value: id, Path: ck.Path, Domain: ck.Domain, MaxAge: ck.MaxAge,
			HttpOnly: *ck.HTTPOnly, Secure: ck.Secure, SameSite: ck.SameSite,
		}).String())
	}
	if h := srv.cfg.onInitialHeaders; h != nil {
		h(header, r)
	}

	if !srv.register(s) {
		srv.reject(w, &ConnectionError{Request: r, Code: CodeBadRequest, Context: "SERVER_CLOSED", Err: ErrServerClosed}, upgrade)
		return
	}
	if transport == TransportWebSocket {
		ws, err := srv.acceptWebSocket(w, r, header, true)
		if err != nil {
			s.terminate(ReasonTransportError, err, false)
			return
		}
		// The open packet goes first; the writer starts only once the
		// connection callback has registered the session's handlers.
		s.mu.Lock()
		s.enqueueLocked(openMsg)
		s.mu.Unlock()
		srv.connected(s)
		s.mu.Lock()
		s.ws = ws
		s.kickLocked()
		s.mu.Unlock()
		srv.goSession(func() { s.readLoop(ws) })
		return
	}
	// Polling: the handshake GET is answered with the open packet alone;
	// what the connection callback sends goes out on the next GET, as in
	// Node.
	srv.connected(s)
	for k, v := range header {
		w.Header()[k] = v
	}
	body, compress := s.encodePoll([]*Message{openMsg})
	_ = s.writePollResponse(w, r, body, compress)
	putBuffer(body)
}

func (srv *Server) register(s *Session) bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.closed {
		return false
	}
	srv.sessions[s.id] = s
	return true
}

// connected runs the connection callback, then starts the session's
// timers.
func (srv *Server) connected(s *Session) {
	srv.log.Debug("engineio: session opened", "sid", s.id, "transport", s.transport, "remote_addr", s.req.RemoteAddr)
	if fn := srv.onConnection.Load(); fn != nil {
		(*fn)(s)
	}
	s.start()
}

func defaultGenerateID(*http.Request) (string, error) {
	var b [15]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// Shutdown closes every session gracefully with reason "server shutting
// down": queued packets are delivered, then the close packet (long-polling)
// or a close frame (WebSocket). It returns once every session is closed
// and every goroutine the server started has exited, or when ctx is done:
// then the remaining sessions and connections are cut, and ctx's error is
// returned once they are gone. New handshakes after Shutdown started get
// HTTP 503; requests of sessions still closing are served. Shutdown does
// not close the http.Server; hijacked WebSocket connections are closed by
// it. It returns [ErrServerClosed] if called again.
func (srv *Server) Shutdown(ctx context.Context) error {
	sessions, ok := srv.markClosed()
	if !ok {
		srv.wg.Wait()
		return ErrServerClosed
	}
	for _, s := range sessions {
		s.closeGracefully(ReasonServerShuttingDown)
	}
	var err error
	for _, s := range sessions {
		select {
		case <-s.done:
		case <-ctx.Done():
			err = ctx.Err()
			s.terminate(ReasonServerShuttingDown, err, false)
			<-s.done
		}
	}
	// Closed WebSockets may still wait for their client's close frame.
	idle := make(chan struct{})
	go func() { srv.wg.Wait(); close(idle) }()
	select {
	case <-idle:
	case <-ctx.Done():
		err = ctx.Err()
		for _, s := range sessions {
			s.cutTransport()
		}
		<-idle
	}
	return err
}

// Close closes every session at once with reason "server shutting down"
// and returns once the server's goroutines have exited. Queued packets are
// dropped. It returns [ErrServerClosed] if called again.
func (srv *Server) Close() error {
	sessions, ok := srv.markClosed()
	for _, s := range sessions {
		s.terminate(ReasonServerShuttingDown, nil, false)
	}
	for _, s := range sessions {
		<-s.done
	}
	srv.wg.Wait()
	if !ok {
		return ErrServerClosed
	}
	return nil
}

func (srv *Server) markClosed() ([]*Session, bool) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	wasOpen := !srv.closed
	srv.closed = true
	out := make([]*Session, 0, len(srv.sessions))
	for _, s := range srv.sessions {
		out = append(out, s)
	}
	return out, wasOpen
}
