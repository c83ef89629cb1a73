package engineio

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/gosio/gosio/engineio/parser"
)

// wsConn is one WebSocket connection. gorilla/websocket performs the
// handshake, reads messages and answers control frames; the session's
// single writer frames data messages itself and writes whole batches to
// the raw connection in one system call. wmu serialises those writes with
// gorilla's control frames, which reach the connection through lockedConn.
type wsConn struct {
	conn         *websocket.Conn
	nc           net.Conn    // the raw connection
	lc           *lockedConn // gorilla's view of nc
	wmu          writeLock   // held for every write to nc
	deflate      bool        // write through gorilla (permessage-deflate)
	threshold    int         // smallest message compressed
	writeTimeout time.Duration
	closeSent    atomic.Bool
	closeOnce    sync.Once
}

// writeLock serialises writes to a connection; unlike sync.Mutex it can
// be waited for with a bound.
type writeLock chan struct{}

func newWriteLock() writeLock { return make(writeLock, 1) }
func (l writeLock) Lock()     { l <- struct{}{} }
func (l writeLock) Unlock()   { <-l }

// LockWithin takes the lock unless it stays busy for d.
func (l writeLock) LockWithin(d time.Duration) bool {
	select {
	case l <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case l <- struct{}{}:
		return true
	case <-t.C:
		return false
	}
}

// lockedConn is the connection gorilla sees: its writes take the lock.
//
// On a new session's connection it holds gorilla's handshake response
// back (held), to go out with the open packet in one write: one system
// call and one wake-up of the client less per connection. Every write to
// the raw connection takes held first (under the lock), so nothing can
// overtake the response.
type lockedConn struct {
	net.Conn
	mu      writeLock
	holding bool   // the next write (the handshake response) is held
	held    []byte // what was held, not yet written
}

func (c *lockedConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.holding {
		c.holding = false
		c.held = append(c.held, p...)
		return len(p), nil
	}
	if len(c.held) > 0 {
		buf := append(c.takeHeldLocked(), p...)
		n, err := c.Conn.Write(buf)
		return max(0, n-(len(buf)-len(p))), err
	}
	return c.Conn.Write(p)
}

// takeHeldLocked returns the bytes held back, which the caller must write
// first, and forgets them. The caller holds mu.
func (c *lockedConn) takeHeldLocked() []byte {
	b := c.held
	c.held, c.holding = nil, false
	return b
}

// hijacker hands gorilla a lockedConn and keeps the raw connection.
type hijacker struct {
	http.ResponseWriter
	mu   writeLock
	hold bool // hold the handshake response back
	raw  net.Conn
	lc   *lockedConn
}

func (h *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	h.raw = nc
	h.lc = &lockedConn{Conn: nc, mu: h.mu, holding: h.hold}
	return h.lc, brw, nil
}

// Timings of the WebSocket closing handshake.
const (
	wsCloseGrace      = 5 * time.Second        // wait for the client's close frame
	wsCloseFrameWrite = 100 * time.Millisecond // best effort close frame on a cut
	wsHandshakeTime   = 10 * time.Second
)

func (srv *Server) newUpgrader() *websocket.Upgrader {
	return &websocket.Upgrader{
		HandshakeTimeout:  wsHandshakeTime,
		CheckOrigin:       func(*http.Request) bool { return true }, // verify() checked it
		EnableCompression: srv.cfg.deflate != nil,
		// gorilla's own write buffer only serves the permessage-deflate
		// path; pooling it keeps idle connections small.
		WriteBufferPool: &gorillaWriteBuffers,
		// Not 0, which keeps net/http's 4 KiB bufio.Reader for the life
		// of the connection: an idle connection holds 1 KiB instead
		// (connect scenario of make bench: 18.2 -> 16.5 KB of RSS per
		// idle connection, medians of 3). Larger frames are read past
		// the buffer, straight into the message. Not smaller: with 256
		// bytes, BenchmarkWebSocketReadBurst (64 frames of 100 bytes
		// in one write) reads 74% slower, for 768 bytes less per
		// connection.
		ReadBufferSize: 1024,
	}
}

var gorillaWriteBuffers sync.Pool

// acceptWebSocket completes the WebSocket handshake. With hold, the
// response is only written with the first write to the connection, which
// must come without waiting for the client (a new session's open packet;
// not an upgrade's, where the client speaks first).
func (srv *Server) acceptWebSocket(w http.ResponseWriter, r *http.Request, header http.Header, hold bool) (*wsConn, error) {
	if fn := srv.cfg.onHeaders; fn != nil {
		fn(header, r)
	}
	hj := &hijacker{ResponseWriter: w, mu: newWriteLock(), hold: hold}
	conn, err := srv.upgrader.Upgrade(hj, r, header)
	if err != nil {
		srv.log.Debug("engineio: websocket handshake failed", "err", err, "remote_addr", r.RemoteAddr)
		return nil, err
	}
	conn.SetReadLimit(srv.cfg.maxHTTPBufferSize)
	c := &wsConn{
		conn:         conn,
		nc:           hj.raw,
		lc:           hj.lc,
		wmu:          hj.mu,
		writeTimeout: srv.writeTimeout(),
	}
	if srv.cfg.deflate != nil {
		c.deflate, c.threshold = true, srv.cfg.deflate.Threshold
	}
	conn.SetCloseHandler(func(code int, text string) error {
		if !c.closeSent.Swap(true) {
			_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""), time.Now().Add(time.Second))
		}
		return nil
	})
	return c, nil
}

// Batches are written in chunks of about flushAt bytes; a frame larger
// than bigFrame is written straight from the message's data (writev)
// instead of being copied.
const (
	flushAt  = 64 << 10
	bigFrame = 32 << 10
)

// writeBatch writes msgs in order, coalescing frames into few writes.
func (c *wsConn) writeBatch(msgs []*Message) error {
	if c.deflate {
		return c.writeBatchDeflate(msgs)
	}
	bp := getBuffer(0)
	defer putBuffer(bp)
	buf := *bp
	c.wmu.Lock()
	defer c.wmu.Unlock()
	buf = append(buf, c.lc.takeHeldLocked()...)
	if err := c.nc.SetWriteDeadline(time.Now().Add(c.writeTimeout)); err != nil {
		return err
	}
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		_, err := c.nc.Write(buf)
		buf = buf[:0]
		return err
	}
	for _, m := range msgs {
		if m.frameLen() > bigFrame {
			if err := flush(); err != nil {
				return err
			}
			var hdr [wsMaxHeaderLen + 1]byte
			h := (&Message{typ: m.typ, binary: m.binary}).appendFrameHeaderOnly(hdr[:0], len(m.data))
			bufs := net.Buffers{h, m.data}
			if _, err := bufs.WriteTo(c.nc); err != nil {
				return err
			}
			continue
		}
		buf = m.appendFrame(buf)
		if len(buf) >= flushAt {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	err := flush()
	*bp = buf
	return err
}

// writeBatchDeflate writes through gorilla, which compresses each message
// (once per Message, shared by all sessions) when negotiated.
func (c *wsConn) writeBatchDeflate(msgs []*Message) error {
	for _, m := range msgs {
		c.conn.EnableWriteCompression(!m.noDeflat && len(m.data) >= c.threshold)
		if err := c.conn.SetWriteDeadline(time.Now().Add(c.writeTimeout)); err != nil {
			return err
		}
		pm, err := m.preparedMessage()
		if err != nil {
			return err
		}
		if err := c.conn.WritePreparedMessage(pm); err != nil {
			return err
		}
	}
	return nil
}

// WebSocket close codes (RFC 6455 §7.4.1) sent for protocol violations,
// as Node's ws sends them.
const (
	closeNoStatus        = 0                                      // a close frame without payload (Node's ws.close())
	closeInvalidPayload  = websocket.CloseInvalidFramePayloadData // invalid UTF-8
	closeMessageTooBig   = websocket.CloseMessageTooBig
	maxCloseFramePayload = 2
)

// writeCloseFrame sends a close frame without status (as Node's ws does
// on close()), once.
func (c *wsConn) writeCloseFrame(timeout time.Duration, blocking bool) {
	c.writeCloseCode(closeNoStatus, timeout, blocking)
}

// writeCloseCode sends a close frame with code (none for closeNoStatus),
// once.
func (c *wsConn) writeCloseCode(code int, timeout time.Duration, blocking bool) {
	if c.closeSent.Swap(true) {
		return
	}
	if blocking {
		c.wmu.Lock()
	} else if !c.wmu.LockWithin(timeout) {
		return // a write is stuck on this connection: just cut it
	}
	defer c.wmu.Unlock()
	frame := []byte{wsFinal | wsOpClose, 0, 0, 0}
	if code == closeNoStatus {
		frame = frame[:2]
	} else {
		frame[1], frame[2], frame[3] = maxCloseFramePayload, byte(code>>8), byte(code)
	}
	_ = c.nc.SetWriteDeadline(time.Now().Add(timeout))
	_, _ = c.nc.Write(append(c.lc.takeHeldLocked(), frame...))
}

// close cuts the connection after a best-effort close frame.
func (c *wsConn) close() {
	c.closeOnce.Do(func() {
		c.writeCloseFrame(wsCloseFrameWrite, false)
		_ = c.nc.Close()
	})
}

// closeAfterHandshake sends the close frame and lets the reader wait a
// little for the client's; the reader then closes the connection.
func (c *wsConn) closeAfterHandshake() {
	c.writeCloseFrame(wsCloseFrameWrite, true)
	_ = c.nc.SetReadDeadline(time.Now().Add(wsCloseGrace))
}

// readLoop reads the connection until it fails or the session no longer
// uses it. It owns closing the connection.
func (s *Session) readLoop(c *wsConn) {
	defer c.close()
	limit := s.srv.cfg.maxHTTPBufferSize
	for {
		op, r, err := c.conn.NextReader()
		if err != nil {
			s.wsReadFailed(c, err)
			return
		}
		data, err := readMessage(r, limit)
		if err == nil && op == websocket.TextMessage && !utf8.Valid(data) {
			err = errInvalidUTF8
		}
		if err != nil {
			s.wsReadFailed(c, err)
			return
		}
		p, err := parser.DecodePacket(data, op == websocket.BinaryMessage)
		if !s.onWSPacket(c, p, err) {
			return
		}
	}
}

var errInvalidUTF8 = errors.New("invalid UTF-8 in text frame")

// readMessage reads one message of at most limit bytes. gorilla's read
// limit counts wire bytes; this bound also holds after decompression.
// The message is read into a pooled buffer and returned as an exact-size
// copy: one allocation of its size, where io.ReadAll would allocate 512
// bytes at least, and more on every growth.
func readMessage(r io.Reader, limit int64) ([]byte, error) {
	bp := getBuffer(0)
	defer putBuffer(bp)
	buf := *bp
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		// Never read more than one byte past the limit.
		room := min(int64(cap(buf)-len(buf)), limit+1-int64(len(buf)))
		n, err := r.Read(buf[len(buf) : len(buf)+int(room)])
		buf = buf[:len(buf)+n]
		*bp = buf
		if int64(len(buf)) > limit {
			return nil, ErrPayloadTooLarge
		}
		if err == io.EOF {
			return append(make([]byte, 0, len(buf)), buf...), nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// onWSPacket handles a packet (or decode error) read on c and reports
// whether to keep reading.
func (s *Session) onWSPacket(c *wsConn, p parser.Packet, err error) bool {
	s.mu.Lock()
	probe, current := s.probe == c, s.ws == c
	s.mu.Unlock()
	switch {
	case probe:
		return s.onProbePacket(c, p, err)
	case !current:
		return false
	case err != nil:
		s.log().Debug("engineio: invalid packet", "err", err)
		s.terminate(ReasonParseError, err, false)
		return false
	}
	s.dispatch.Lock()
	s.handlePacket(p)
	s.releaseDispatch()
	return true
}

// wsReadFailed ends whatever c served.
func (s *Session) wsReadFailed(c *wsConn, err error) {
	s.mu.Lock()
	probe, current := s.probe == c, s.ws == c
	s.mu.Unlock()
	switch {
	case probe:
		s.abortProbe(c)
	case current:
		reason, cause := ReasonTransportClose, err
		if _, ok := errors.AsType[*websocket.CloseError](err); ok || errors.Is(err, io.EOF) {
			cause = nil // an orderly close from the client is no error, as in Node
		}
		if isProtocolViolation(err) {
			reason = ReasonTransportError
			// gorilla already answered its own protocol errors (ErrReadLimit:
			// 1009); ours need their status too.
			switch {
			case errors.Is(err, ErrPayloadTooLarge):
				c.writeCloseCode(closeMessageTooBig, wsCloseFrameWrite, false)
			case errors.Is(err, errInvalidUTF8):
				c.writeCloseCode(closeInvalidPayload, wsCloseFrameWrite, false)
			}
		}
		s.terminate(reason, cause, false)
	}
}

// isProtocolViolation tells a client that broke the rules (transport
// error) from one that went away (transport close).
func isProtocolViolation(err error) bool {
	if _, ok := errors.AsType[*websocket.CloseError](err); ok {
		return false
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return false
	}
	return !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, net.ErrClosed)
}

// writeLoop is the session's single WebSocket writer. It runs while there
// is something to write and exits when the queue is empty; kickLocked
// starts it again.
func (s *Session) writeLoop() {
	for {
		s.mu.Lock()
		ws := s.ws
		if s.state == stateClosed || ws == nil {
			s.writing = false
			s.mu.Unlock()
			return
		}
		if len(s.queue) == 0 {
			s.writing = false
			closing, reason := s.state == stateClosing, s.closeReason
			s.mu.Unlock()
			if closing {
				// terminate marks the session closed before the close
				// frame goes out, so the client's answering close frame
				// cannot be taken for a client-side close.
				s.terminate(reason, nil, true)
				return
			}
			s.emitDrain()
			return
		}
		batch := s.takeQueueLocked()
		s.mu.Unlock()
		err := ws.writeBatch(batch)
		s.mu.Lock()
		s.recycleLocked(batch)
		s.mu.Unlock()
		if err != nil {
			s.terminate(ReasonTransportError, err, false)
			return
		}
	}
}
