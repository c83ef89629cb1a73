package engineio

import "time"

// The server pings every PingInterval; a pong must come within
// PingTimeout. One timer serves both phases; each (re)arming bumps a
// generation so that a callback that lost a race with Reset does nothing.

func (s *Session) scheduleHeartbeatLocked(d time.Duration) {
	if s.hbTimer != nil {
		s.hbTimer.Stop()
	}
	s.hbGen++
	gen := s.hbGen
	s.hbTimer = time.AfterFunc(d, func() { s.onHeartbeatTimer(gen) })
}

func (s *Session) stopHeartbeatLocked() {
	if s.hbTimer != nil {
		s.hbTimer.Stop()
		s.hbTimer = nil
	}
	s.hbGen++
}

func (s *Session) onHeartbeatTimer(gen uint64) {
	s.mu.Lock()
	if gen != s.hbGen || s.state != stateOpen {
		s.mu.Unlock()
		return
	}
	if s.hbAwaitPong {
		s.mu.Unlock()
		s.terminate(ReasonPingTimeout, nil, false)
		return
	}
	s.hbAwaitPong = true
	s.scheduleHeartbeatLocked(s.srv.cfg.pingTimeout)
	s.enqueueLocked(msgPing)
	s.mu.Unlock()
	if h := s.h.packetCreate; h != nil {
		h(msgPing.packet())
	}
}

// onPong restarts the ping interval from now, as Node does
// (pingIntervalTimer.refresh()).
func (s *Session) onPong() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateOpen {
		return
	}
	s.hbAwaitPong = false
	s.scheduleHeartbeatLocked(s.srv.cfg.pingInterval)
}
