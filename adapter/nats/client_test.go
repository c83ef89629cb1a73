package natsadapter_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
)

// A raw Socket.IO v5 client over an Engine.IO v4 WebSocket, speaking the
// wire protocol itself so that the tests see exactly what a real client
// receives: the frames, their order, and their binary attachments.

// Engine.IO and Socket.IO packet types, as sent on the wire.
const (
	eioOpen    = '0'
	eioPing    = '2'
	eioPong    = '3'
	eioMessage = '4'

	sioConnect      = '0'
	sioDisconnect   = '1'
	sioEvent        = '2'
	sioAck          = '3'
	sioConnectError = '4'
	sioBinaryEvent  = '5'
	sioBinaryAck    = '6'
)

// wsWait bounds every wait of the client: generous, for loaded machines.
const wsWait = 10 * time.Second

// sioPacket is one decoded Socket.IO packet.
type sioPacket struct {
	Type        byte
	NSP         string
	ID          int64 // -1 when the packet has no ack id
	Data        json.RawMessage
	Attachments [][]byte
	Frame       string // the text frame, without the Engine.IO type
}

// event returns the name and arguments of an EVENT or BINARY_EVENT.
func (p *sioPacket) event() (string, []json.RawMessage, error) {
	var elems []json.RawMessage
	if err := json.Unmarshal(p.Data, &elems); err != nil || len(elems) == 0 {
		return "", nil, fmt.Errorf("not an event array: %q", p.Data)
	}
	var name string
	if err := json.Unmarshal(elems[0], &name); err != nil {
		return "", nil, fmt.Errorf("event name: %w", err)
	}
	return name, elems[1:], nil
}

// attachment returns the bytes an argument stands for when it is a binary
// placeholder {"_placeholder":true,"num":N}.
func (p *sioPacket) attachment(arg json.RawMessage) ([]byte, error) {
	var ph struct {
		Placeholder bool `json:"_placeholder"`
		Num         int  `json:"num"`
	}
	if err := json.Unmarshal(arg, &ph); err != nil || !ph.Placeholder {
		return nil, fmt.Errorf("not a placeholder: %s", arg)
	}
	if ph.Num < 0 || ph.Num >= len(p.Attachments) {
		return nil, fmt.Errorf("placeholder %d of %d attachments", ph.Num, len(p.Attachments))
	}
	return p.Attachments[ph.Num], nil
}

// parseSIOPacket decodes a Socket.IO text frame:
// type [attachments "-"] ["/nsp" ","] [id] [data].
func parseSIOPacket(frame string) (*sioPacket, int, error) {
	if frame == "" {
		return nil, 0, fmt.Errorf("empty packet")
	}
	p := &sioPacket{Type: frame[0], NSP: "/", ID: -1, Frame: frame}
	rest := frame[1:]
	attachments := 0
	if p.Type == sioBinaryEvent || p.Type == sioBinaryAck {
		i := strings.IndexByte(rest, '-')
		if i < 0 {
			return nil, 0, fmt.Errorf("binary packet without attachment count: %q", frame)
		}
		n, err := strconv.Atoi(rest[:i])
		if err != nil {
			return nil, 0, fmt.Errorf("attachment count in %q: %w", frame, err)
		}
		attachments, rest = n, rest[i+1:]
	}
	if strings.HasPrefix(rest, "/") {
		i := strings.IndexByte(rest, ',')
		if i < 0 {
			p.NSP, rest = rest, ""
		} else {
			p.NSP, rest = rest[:i], rest[i+1:]
		}
	}
	i := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	if i > 0 {
		id, err := strconv.ParseInt(rest[:i], 10, 64)
		if err != nil {
			return nil, 0, fmt.Errorf("ack id in %q: %w", frame, err)
		}
		p.ID, rest = id, rest[i:]
	}
	p.Data = json.RawMessage(rest)
	return p, attachments, nil
}

// wsClient is a raw Socket.IO client on one WebSocket. A reader goroutine
// answers pings, assembles binary packets and queues the packets; the
// test goroutine reads them with a deadline and writes frames.
type wsClient struct {
	t       *testing.T
	name    string // for failure messages
	conn    *websocket.Conn
	packets chan *sioPacket // closed when the connection ends
	quit    chan struct{}   // closed by the cleanup: the reader stops
	done    chan struct{}   // closed when the reader has returned
	nsp     string          // namespace of the last connect
	sid     string          // socket id of the last connect
	ackID   int64

	wmu sync.Mutex // one writer at a time (gorilla's rule)
}

// dialWS opens a WebSocket to the Socket.IO server at base (an http:// URL
// of its httptest server) and reads the Engine.IO handshake. The
// connection is closed, and its reader waited for, at the end of the test.
func dialWS(t *testing.T, base, name string) *wsClient {
	t.Helper()
	url := "ws" + strings.TrimPrefix(base, "http") + "/socket.io/?EIO=4&transport=websocket"
	d := websocket.Dialer{HandshakeTimeout: wsWait}
	conn, resp, err := d.Dial(url, nil)
	require.NoError(t, err, "%s: dial %s", name, url)
	_ = resp.Body.Close()
	c := &wsClient{
		t:       t,
		name:    name,
		conn:    conn,
		packets: make(chan *sioPacket, 256),
		quit:    make(chan struct{}),
		done:    make(chan struct{}),
		nsp:     "/",
	}
	t.Cleanup(func() {
		close(c.quit)
		_ = conn.Close()
		<-c.done
	})
	_ = conn.SetReadDeadline(time.Now().Add(wsWait))
	op, b, err := conn.ReadMessage()
	require.NoError(t, err, "%s: Engine.IO handshake", name)
	require.Equal(t, websocket.TextMessage, op)
	require.True(t, len(b) > 1 && b[0] == eioOpen && b[1] == '{', "%s: Engine.IO open packet: %q", name, b)
	_ = conn.SetReadDeadline(time.Time{})
	go c.readLoop()
	return c
}

// readLoop reads until the connection ends; it never calls t (it is not
// the test goroutine). A malformed frame is queued as a packet of type 0
// with the frame, which fails whichever expectation reads it.
func (c *wsClient) readLoop() {
	defer close(c.done)
	defer close(c.packets)
	var pending *sioPacket // a binary packet waiting for attachments
	var want int
	for {
		op, b, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		var p *sioPacket
		switch {
		case op == websocket.BinaryMessage:
			if pending == nil {
				p = &sioPacket{Frame: "unexpected binary frame: " + string(b)}
				break
			}
			pending.Attachments = append(pending.Attachments, bytes.Clone(b))
			if len(pending.Attachments) == want {
				p, pending = pending, nil
			}
		case len(b) == 1 && b[0] == eioPing:
			if c.write(websocket.TextMessage, []byte{eioPong}) != nil {
				return
			}
			continue
		case len(b) > 1 && b[0] == eioMessage:
			q, n, perr := parseSIOPacket(string(b[1:]))
			switch {
			case perr != nil:
				p = &sioPacket{Frame: perr.Error()}
			case n > 0:
				pending, want = q, n
			default:
				p = q
			}
		default:
			p = &sioPacket{Frame: "unexpected Engine.IO message: " + string(b)}
		}
		if p == nil {
			continue
		}
		select {
		case c.packets <- p:
		case <-c.quit:
			return
		}
	}
}

func (c *wsClient) write(op int, b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.conn.SetWriteDeadline(time.Now().Add(wsWait))
	return c.conn.WriteMessage(op, b)
}

// send writes one Socket.IO text frame.
func (c *wsClient) send(frame string) {
	c.t.Helper()
	require.NoError(c.t, c.write(websocket.TextMessage, []byte(string(eioMessage)+frame)), "%s: send %s", c.name, frame)
}

// nspPrefix is the namespace part of a frame: "" for "/", "/x," otherwise.
func nspPrefix(nsp string) string {
	if nsp == "/" {
		return ""
	}
	return nsp + ","
}

// next returns the next packet, failing the test after wsWait or when
// the connection has ended.
func (c *wsClient) next() *sioPacket {
	c.t.Helper()
	timer := time.NewTimer(wsWait)
	defer timer.Stop()
	select {
	case p, ok := <-c.packets:
		if !ok {
			c.t.Fatalf("%s: connection closed while waiting for a packet", c.name)
		}
		return p
	case <-timer.C:
		c.t.Fatalf("%s: no packet within %v", c.name, wsWait)
		return nil
	}
}

// connect joins namespace nsp with auth as CONNECT payload (nil: none)
// and returns the CONNECT answer's sid and pid (pid is "" unless
// connection state recovery is on).
func (c *wsClient) connect(nsp string, auth any) (sid, pid string) {
	c.t.Helper()
	c.sendConnect(nsp, auth)
	sid, pid = c.expectConnected()
	c.sid = sid
	return sid, pid
}

// sendConnect sends CONNECT to namespace nsp with auth as payload (nil:
// none), without waiting for the answer.
func (c *wsClient) sendConnect(nsp string, auth any) {
	c.t.Helper()
	payload := ""
	if auth != nil {
		payload = c.marshal(auth)
	}
	c.nsp = nsp
	c.send(string(sioConnect) + nspPrefix(nsp) + payload)
}

// expectConnected reads the CONNECT answer of the client's namespace.
func (c *wsClient) expectConnected() (sid, pid string) {
	c.t.Helper()
	p := c.next()
	require.Equal(c.t, string(sioConnect), string(p.Type), "%s: want a CONNECT answer, got %s", c.name, p.Frame)
	require.Equal(c.t, c.nsp, p.NSP, "%s: %s", c.name, p.Frame)
	var hello struct {
		SID string `json:"sid"`
		PID string `json:"pid"`
	}
	require.NoError(c.t, json.Unmarshal(p.Data, &hello), "%s: %s", c.name, p.Frame)
	require.NotEmpty(c.t, hello.SID, "%s: %s", c.name, p.Frame)
	return hello.SID, hello.PID
}

// emit sends an event (no ack) on the client's namespace.
func (c *wsClient) emit(event string, args ...any) {
	c.t.Helper()
	c.send(string(sioEvent) + nspPrefix(c.nsp) + c.marshal(append([]any{event}, args...)))
}

// emitWithAck sends an event asking for an ack and returns the ack's
// arguments; the ack must be the next packet.
func (c *wsClient) emitWithAck(event string, args ...any) []json.RawMessage {
	c.t.Helper()
	c.ackID++
	id := c.ackID
	c.send(string(sioEvent) + nspPrefix(c.nsp) + strconv.FormatInt(id, 10) + c.marshal(append([]any{event}, args...)))
	p := c.next()
	require.Equal(c.t, string(sioAck), string(p.Type), "%s: want the ack of %q, got %s", c.name, event, p.Frame)
	require.Equal(c.t, id, p.ID, "%s: %s", c.name, p.Frame)
	var args2 []json.RawMessage
	require.NoError(c.t, json.Unmarshal(p.Data, &args2), "%s: %s", c.name, p.Frame)
	return args2
}

// emitBinary sends a BINARY_EVENT: every []byte argument travels as an
// attachment, replaced by its placeholder in the text frame.
func (c *wsClient) emitBinary(event string, args ...any) {
	c.t.Helper()
	elems := []any{event}
	var atts [][]byte
	for _, a := range args {
		if b, ok := a.([]byte); ok {
			elems = append(elems, map[string]any{"_placeholder": true, "num": len(atts)})
			atts = append(atts, b)
			continue
		}
		elems = append(elems, a)
	}
	c.send(string(sioBinaryEvent) + strconv.Itoa(len(atts)) + "-" + nspPrefix(c.nsp) + c.marshal(elems))
	for _, b := range atts {
		require.NoError(c.t, c.write(websocket.BinaryMessage, b), "%s: send attachment", c.name)
	}
}

// ack answers the server's packet id with args.
func (c *wsClient) ack(id int64, args ...any) {
	c.t.Helper()
	require.GreaterOrEqual(c.t, id, int64(0), "%s: the event has no ack id", c.name)
	if args == nil {
		args = []any{}
	}
	c.send(string(sioAck) + nspPrefix(c.nsp) + strconv.FormatInt(id, 10) + c.marshal(args))
}

func (c *wsClient) marshal(v any) string {
	c.t.Helper()
	b, err := json.Marshal(v)
	require.NoError(c.t, err)
	return string(b)
}

// expectEvent reads the next packet, which must be the event name on the
// client's namespace (text or binary), and returns it with its arguments.
func (c *wsClient) expectEvent(name string) (*sioPacket, []json.RawMessage) {
	c.t.Helper()
	p := c.next()
	require.Contains(c.t, []byte{sioEvent, sioBinaryEvent}, p.Type, "%s: want event %q, got %s", c.name, name, p.Frame)
	require.Equal(c.t, c.nsp, p.NSP, "%s: want event %q, got %s", c.name, name, p.Frame)
	got, args, err := p.event()
	require.NoError(c.t, err, "%s: %s", c.name, p.Frame)
	require.Equal(c.t, name, got, "%s: want event %q, got %s", c.name, name, p.Frame)
	return p, args
}

// expectEvents reads events whose names must be names, in order.
func (c *wsClient) expectEvents(names ...string) {
	c.t.Helper()
	for _, n := range names {
		c.expectEvent(n)
	}
}

// expectDisconnect reads the next packet, which must be DISCONNECT for
// the client's namespace (the server disconnected the socket).
func (c *wsClient) expectDisconnect() {
	c.t.Helper()
	p := c.next()
	require.Equal(c.t, string(sioDisconnect), string(p.Type), "%s: want DISCONNECT, got %s", c.name, p.Frame)
	require.Equal(c.t, c.nsp, p.NSP, "%s: %s", c.name, p.Frame)
}

// expectClosed waits until the server closes the connection; no packet
// may arrive before.
func (c *wsClient) expectClosed() {
	c.t.Helper()
	timer := time.NewTimer(wsWait)
	defer timer.Stop()
	select {
	case p, ok := <-c.packets:
		if ok {
			c.t.Fatalf("%s: want the connection closed, got %s", c.name, p.Frame)
		}
	case <-timer.C:
		c.t.Fatalf("%s: connection still open after %v", c.name, wsWait)
	}
}

// dropTransport cuts the TCP connection without a WebSocket close frame,
// as a client that loses its network does.
func (c *wsClient) dropTransport() {
	c.t.Helper()
	require.NoError(c.t, c.conn.NetConn().Close())
}

// stringArg decodes a JSON string argument.
func jsonString(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var s string
	require.NoError(t, json.Unmarshal(raw, &s), "want a string, got %s", raw)
	return s
}
