package engineio

import (
	"net/http"
	"time"

	"github.com/gosio/gosio/engineio/parser"
)

// upgrade takes a WebSocket handshake for an existing polling session:
// the client probes ("2probe" → "3probe"), the pending GET is released
// with a noop, and "5" switches the session to the WebSocket. A probe that
// does not complete within UpgradeTimeout closes only the WebSocket.
func (srv *Server) upgrade(w http.ResponseWriter, r *http.Request, s *Session) {
	s.mu.Lock()
	ok := s.state == stateOpen && s.transport == TransportPolling && !s.upgrading && !s.upgraded && srv.cfg.allowUpgrades
	if ok {
		s.upgrading = true
	}
	s.mu.Unlock()

	ws, err := srv.acceptWebSocket(w, r, http.Header{}, false)
	if err != nil {
		if ok {
			s.mu.Lock()
			s.upgrading = false
			s.mu.Unlock()
		}
		return
	}
	if !ok {
		// Already upgrading or upgraded: Node completes the handshake and
		// closes the new WebSocket.
		srv.log.Debug("engineio: refused second upgrade", "sid", s.id)
		ws.close()
		return
	}
	s.mu.Lock()
	if s.state != stateOpen || !s.upgrading || s.probe != nil {
		s.mu.Unlock()
		ws.close()
		return
	}
	s.probe = ws
	s.upgradeTimer = time.AfterFunc(srv.cfg.upgradeTimeout, func() { s.abortProbe(ws) })
	s.wakePollLocked() // a waiting GET now answers noop
	s.mu.Unlock()
	srv.goSession(func() { s.readLoop(ws) })
}

// abortProbe gives up the upgrade to c, if it is still in progress, and
// closes c. The session goes on over polling.
func (s *Session) abortProbe(c *wsConn) {
	s.mu.Lock()
	if s.probe == c {
		s.abortUpgradeLocked()
	}
	s.mu.Unlock()
	c.close()
}

// onProbePacket handles a packet received on a WebSocket that is not yet
// the session's transport.
func (s *Session) onProbePacket(c *wsConn, p parser.Packet, err error) bool {
	switch {
	case err == nil && p.Type == parser.Ping && string(p.Data) == "probe":
		if werr := c.writeBatch([]*Message{msgPongProbe}); werr != nil {
			s.abortProbe(c)
			return false
		}
		return true
	case err == nil && p.Type == parser.Upgrade:
		s.mu.Lock()
		if s.probe != c || s.state != stateOpen {
			s.mu.Unlock()
			return false
		}
		if s.upgradeTimer != nil {
			s.upgradeTimer.Stop()
			s.upgradeTimer = nil
		}
		s.probe, s.upgrading, s.upgraded = nil, false, true
		s.transport, s.ws = TransportWebSocket, c
		s.wakePollLocked() // a GET still waiting answers noop
		if len(s.queue) > 0 && !s.writing {
			s.writing = true
			s.startWriter()
		}
		s.mu.Unlock()
		s.log().Debug("engineio: upgraded", "transport", TransportWebSocket)
		if h := s.h.upgrade; h != nil {
			s.dispatch.Lock()
			h(TransportWebSocket)
			s.releaseDispatch()
		}
		return true
	default:
		s.log().Debug("engineio: upgrade aborted", "err", err, "packet", p.Type.String())
		s.abortProbe(c)
		return false
	}
}
