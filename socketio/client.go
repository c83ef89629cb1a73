package socketio

import (
	"log/slog"

	json "github.com/go-json-experiment/json"
	"sync"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/engineio"
	"github.com/gosio/gosio/internal/lazylog"
	"github.com/gosio/gosio/socketio/parser"
)

// client is one Engine.IO session seen from Socket.IO: it decodes packets
// and routes them to the client's socket in each namespace (Node's
// Client).
type client struct {
	srv     *Server
	conn    *engineio.Session
	decoder parser.Decoder // used by the session's reader only

	mu           sync.Mutex
	sockets      socketSet // by namespace name, connecting or connected
	connectTimer *time.Timer
}

// log returns the client's logger: the server's, with the session id.
// Built on each call, it costs no memory while the client is idle.
func (c *client) log() *slog.Logger {
	return lazylog.With(c.srv.log, slog.String("sid", c.conn.ID()))
}

func (srv *Server) onEngineConnection(conn *engineio.Session) {
	c := &client{
		srv:     srv,
		conn:    conn,
		decoder: parser.Decoder{MaxAttachments: srv.cfg.maxAttachments},
	}
	conn.OnMessage(c.onData)
	conn.OnClose(c.onEngineClose)
	c.mu.Lock()
	c.connectTimer = time.AfterFunc(srv.cfg.connectTimeout, c.onConnectTimeout)
	c.mu.Unlock()
}

// socketSet holds a client's sockets, one per namespace. Nearly every
// client has one: it sits in a field, where a map costs some 250 bytes;
// the sockets of other namespaces go in a map.
type socketSet struct {
	first *Socket
	rest  map[string]*Socket // by namespace name
}

func (ss *socketSet) get(name string) *Socket {
	if ss.first != nil && ss.first.ns.name == name {
		return ss.first
	}
	return ss.rest[name]
}

// set makes s the socket of namespace name (s.ns.name), replacing any.
func (ss *socketSet) set(name string, s *Socket) {
	if ss.first == nil || ss.first.ns.name == name {
		ss.first = s
		delete(ss.rest, name)
		return
	}
	if ss.rest == nil {
		ss.rest = make(map[string]*Socket)
	}
	ss.rest[name] = s
}

// remove removes s, if it is still its namespace's socket.
func (ss *socketSet) remove(s *Socket) {
	if ss.first == s {
		ss.first = nil
	} else if ss.rest[s.ns.name] == s {
		delete(ss.rest, s.ns.name)
	}
}

// appendTo appends the sockets to dst.
func (ss *socketSet) appendTo(dst []*Socket) []*Socket {
	if ss.first != nil {
		dst = append(dst, ss.first)
	}
	for _, s := range ss.rest {
		dst = append(dst, s)
	}
	return dst
}

// onData runs on the session's reader for every Engine.IO message.
func (c *client) onData(data []byte, binary bool) {
	p, err := c.decoder.Add(data, binary)
	if err != nil {
		c.log().Debug("socketio: invalid packet", "err", err)
		c.protocolError(err)
		return
	}
	if p != nil {
		c.onPacket(p)
	}
}

func (c *client) onPacket(p *parser.Packet) {
	c.mu.Lock()
	s := c.sockets.get(p.Namespace)
	c.mu.Unlock()
	switch {
	case s == nil && p.Type == parser.Connect:
		c.connect(p.Namespace, p.Data)
	case s != nil && p.Type != parser.Connect && p.Type != parser.ConnectError && s.Connected():
		s.onPacket(p)
	default:
		c.log().Debug("socketio: invalid state", "type", p.Type.String(), "nsp", p.Namespace)
		c.close()
	}
}

// connect creates the client's socket in namespace name and runs the
// middleware on the socket's dispatcher.
func (c *client) connect(name string, auth jsontext.Value) {
	ns := c.srv.namespaceFor(name, auth)
	if ns == nil {
		c.writePacket(&parser.Packet{Type: parser.ConnectError, Namespace: name, Data: jsontext.Value(`{"message":"Invalid namespace"}`)})
		return
	}
	s := newSocket(ns, c, auth)
	if c.srv.cfg.recoveryWindow > 0 {
		s.pid = newSocketID()
		c.recover(s, auth)
	}
	c.mu.Lock()
	c.sockets.set(name, s)
	c.mu.Unlock()
	s.enqueue(task{run: func() { ns.connectSocket(s) }}, nil)
}

// recover restores s from the session the client names in its CONNECT
// payload ({"pid","offset"}), if the adapter still has it: same id, pid,
// rooms and data, and the missed packets are sent before the CONNECT
// answer, as Node does.
func (c *client) recover(s *Socket, auth jsontext.Value) {
	var proof struct {
		PID    string `json:"pid"`
		Offset string `json:"offset"`
	}
	if len(auth) == 0 || json.Unmarshal(auth, &proof) != nil || proof.PID == "" || proof.Offset == "" {
		return
	}
	session, err := s.ns.adapter.RestoreSession(c.conn.Context(), proof.PID, proof.Offset)
	if err != nil {
		c.log().Warn("socketio: session restore failed", "err", err)
		return
	}
	if session == nil {
		return
	}
	s.id, s.pid, s.recovered = session.SID, session.PID, true
	s.data = session.Data
	s.ns.adapter.AddAll(s, session.Rooms...)
	for _, p := range session.MissedPackets {
		_ = c.write(adapter.Encode(p, false), adapter.Flags{})
	}
	c.log().Debug("socketio: session recovered", "socket_id", s.id, "missed", len(session.MissedPackets))
}

// connected stops the connect timer: the client joined a namespace.
func (c *client) connected() {
	c.mu.Lock()
	if c.connectTimer != nil {
		c.connectTimer.Stop()
		c.connectTimer = nil
	}
	c.mu.Unlock()
}

// onConnectTimeout closes a connection that joined no namespace within
// ConnectTimeout.
func (c *client) onConnectTimeout() {
	c.mu.Lock()
	idle := c.connectTimer != nil
	for _, s := range c.sockets.appendTo(nil) {
		if s.Connected() {
			idle = false
		}
	}
	c.mu.Unlock()
	if idle {
		c.log().Debug("socketio: no namespace joined in time, closing")
		c.close()
	}
}

func (c *client) removeSocket(s *Socket) {
	c.mu.Lock()
	c.sockets.remove(s)
	c.mu.Unlock()
}

func (c *client) allSockets() []*Socket {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sockets.appendTo(nil)
}

// write queues an encoded packet on the connection.
func (c *client) write(enc *adapter.Encoded, f adapter.Flags) error {
	if f.Volatile {
		if !c.conn.SendVolatile(enc.Messages...) {
			c.log().Debug("socketio: volatile packet dropped")
		}
		return nil
	}
	err := c.conn.SendMessages(enc.Messages...)
	switch err {
	case nil:
		return nil
	case engineio.ErrSessionClosed:
		return ErrDisconnected
	}
	return err
}

func (c *client) writePacket(p *parser.Packet) {
	_ = c.write(adapter.Encode(p, false), adapter.Flags{})
}

// protocolError ends a client that sent an undecodable or out-of-place
// packet: its sockets disconnect with "parse error" and the connection
// closes.
func (c *client) protocolError(err error) {
	for _, s := range c.allSockets() {
		s.onClose(ReasonParseError)
	}
	_ = c.conn.Close()
}

// close closes the connection from the server side (Node's
// client.close()): sockets disconnect with "forced server close".
func (c *client) close() {
	for _, s := range c.allSockets() {
		s.onClose(ReasonForcedServerClose)
	}
	_ = c.conn.Close()
}

// disconnectAll disconnects every socket of the client with a DISCONNECT
// packet, then closes the connection (Socket.Disconnect(true)).
func (c *client) disconnectAll() {
	for _, s := range c.allSockets() {
		if s.Connected() {
			c.writePacket(&parser.Packet{Type: parser.Disconnect, Namespace: s.ns.name})
			s.onClose(ReasonServerNamespaceDisconnect)
		}
	}
	c.close()
}

// onEngineClose runs when the Engine.IO session closed: every socket
// disconnects with the session's reason.
func (c *client) onEngineClose(reason engineio.Reason, _ error) {
	c.mu.Lock()
	if c.connectTimer != nil {
		c.connectTimer.Stop()
		c.connectTimer = nil
	}
	c.mu.Unlock()
	for _, s := range c.allSockets() {
		s.onClose(Reason(reason))
	}
	c.decoder.Reset()
}
