package engineio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func echo(s *Session) {
	s.OnMessage(func(data []byte, binary bool) {
		if binary {
			_ = s.SendBinary(data)
		} else {
			_ = s.Send(data)
		}
	})
}

func TestWebSocket_Echo(t *testing.T) {
	ts := newTestServer(t, nil, echo)
	ws := ts.mustDialWS(t, "EIO=4&transport=websocket")
	ws.mustRead() // open
	ws.send("4hello")
	assert.Equal(t, "4hello", ws.mustRead())
	ws.sendBinary([]byte{1, 2, 3, 4})
	assert.Equal(t, "bin:\x01\x02\x03\x04", ws.mustRead())
	ws.send("bAQIDBA==") // base64 binary in a text frame, as Node accepts
	assert.Equal(t, "bin:\x01\x02\x03\x04", ws.mustRead())
	big := strings.Repeat("é", 250_000) // 500 KB
	ws.send("4" + big)
	assert.Equal(t, "4"+big, ws.mustRead())
}

// Everything queued goes out in order, framed correctly, whatever the
// sizes: small frames are coalesced, big ones written from the message.
func TestWebSocket_OrderAndFraming(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	ws := ts.mustDialWS(t, "EIO=4&transport=websocket")
	ws.mustRead()
	s := ts.rec.session(t)
	sizes := []int{0, 1, 124, 125, 126, 65534, 65535, 65536, 70_000, 10, 40_000, 3}
	for i, n := range sizes {
		require.NoError(t, s.Send([]byte(strings.Repeat(string(rune('a'+i)), n))))
		require.NoError(t, s.SendBinary(bytes.Repeat([]byte{byte(i)}, n)))
	}
	for i, n := range sizes {
		assert.Equal(t, "4"+strings.Repeat(string(rune('a'+i)), n), ws.readSkippingPings(), "text %d", i)
		assert.Equal(t, "bin:"+string(bytes.Repeat([]byte{byte(i)}, n)), ws.readSkippingPings(), "binary %d", i)
	}
}

// A message sent to many sessions is shared, and each receives it whole.
func TestWebSocket_SharedMessage(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	var clients []*wsClient
	var sessions []*Session
	for range 5 {
		ws := ts.mustDialWS(t, "EIO=4&transport=websocket")
		ws.mustRead()
		clients = append(clients, ws)
		sessions = append(sessions, ts.rec.session(t))
	}
	text, bin := NewMessage([]byte("to all"), false), NewMessage([]byte{9, 8, 7}, true)
	for _, s := range sessions {
		require.NoError(t, s.SendMessages(text, bin))
	}
	for _, c := range clients {
		assert.Equal(t, "4to all", c.readSkippingPings())
		assert.Equal(t, "bin:\x09\x08\x07", c.readSkippingPings())
	}
}

func TestWebSocket_ParseError(t *testing.T) {
	for _, frame := range []string{"abc", "", "9", "b!!"} {
		t.Run(fmt.Sprintf("%q", frame), func(t *testing.T) {
			ts := newTestServer(t, nil, nil)
			ws := ts.mustDialWS(t, "EIO=4&transport=websocket")
			ws.mustRead()
			ws.send(frame)
			ev := ts.rec.closed(t)
			assert.Equal(t, ReasonParseError, ev.reason)
			ws.expectClosed()
		})
	}
}

func TestWebSocket_ClientClosePacket(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	ws := ts.mustDialWS(t, "EIO=4&transport=websocket")
	ws.mustRead()
	ws.send("1")
	assert.Equal(t, ReasonTransportClose, ts.rec.closed(t).reason)
	ws.expectClosed()
}

func TestWebSocket_ClientDisconnect(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	ws := ts.mustDialWS(t, "EIO=4&transport=websocket")
	ws.mustRead()
	require.NoError(t, ws.conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")))
	assert.Equal(t, ReasonTransportClose, ts.rec.closed(t).reason)

	ws2 := ts.mustDialWS(t, "EIO=4&transport=websocket")
	ws2.mustRead()
	ws2.close() // abrupt: no close frame
	assert.Equal(t, ReasonTransportClose, ts.rec.closed(t).reason)
}

func TestWebSocket_ClientPingClosesSession(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	ws := ts.mustDialWS(t, "EIO=4&transport=websocket")
	ws.mustRead()
	ws.send("2")
	ev := ts.rec.closed(t)
	assert.Equal(t, ReasonTransportError, ev.reason)
	assert.ErrorIs(t, ev.err, errInvalidHeartbeat)
}

// Server-side Close flushes what is queued, then sends a close frame.
func TestWebSocket_ServerClose(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	ws := ts.mustDialWS(t, "EIO=4&transport=websocket")
	ws.mustRead()
	s := ts.rec.session(t)
	require.NoError(t, s.Send([]byte("last words")))
	require.NoError(t, s.Close())
	assert.Equal(t, "4last words", ws.mustRead())
	err := ws.expectClosed()
	var ce *websocket.CloseError
	require.True(t, errors.As(err, &ce), "want a close frame, got %v", err)
	assert.Equal(t, websocket.CloseNoStatusReceived, ce.Code, "Node's ws.close() sends no status")
	assert.Equal(t, ReasonForcedClose, ts.rec.closed(t).reason)
}

func TestWebSocket_Heartbeat(t *testing.T) {
	// A generous PingTimeout: the client must answer in time even on a
	// loaded machine; the last ping is then left unanswered.
	ts := newTestServer(t, &Options{PingInterval: 300 * time.Millisecond, PingTimeout: 2 * time.Second}, nil)
	ws := ts.mustDialWS(t, "EIO=4&transport=websocket")
	ws.mustRead()
	for range 3 {
		assert.Equal(t, "2", ws.mustRead())
		ws.send("3")
	}
	// Stop answering: closed by ping timeout.
	assert.Equal(t, "2", ws.mustRead())
	assert.Equal(t, ReasonPingTimeout, ts.rec.closed(t).reason)
	ws.expectClosed()
}

// An orderly close by the client is no error, as in Node.
func TestWebSocket_ClientCloseHasNoError(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	ws := ts.mustDialWS(t, "EIO=4&transport=websocket")
	ws.mustRead()
	require.NoError(t, ws.conn.WriteMessage(websocket.CloseMessage, []byte{}))
	ev := ts.rec.closed(t)
	assert.Equal(t, ReasonTransportClose, ev.reason)
	assert.NoError(t, ev.err)
}

// Volatile messages go out only when the transport is idle.
func TestSession_SendVolatile(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	c := ts.client(t)
	sid := c.handshake()
	s := ts.rec.session(t)
	assert.False(t, s.SendVolatile(NewMessage([]byte("dropped"), false)), "no GET waiting")
	got := make(chan response, 1)
	go func() { got <- c.get(pollQuery(sid)) }()
	waitPollPending(t, s)
	assert.True(t, s.SendVolatile(NewMessage([]byte("kept"), false)))
	assert.Equal(t, "4kept", recv(t, got, "GET").body)
	require.NoError(t, s.Close())
	assert.False(t, s.SendVolatile(NewMessage([]byte("closed"), false)))
}

// writeLog is a listener whose connections record their writes.
type writeLog struct {
	net.Listener
	mu     sync.Mutex
	writes [][]byte // of every connection, in order
}

func (l *writeLog) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &loggedConn{Conn: c, log: l}, nil
}

func (l *writeLog) all() [][]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.writes)
}

type loggedConn struct {
	net.Conn
	log *writeLog
}

func (c *loggedConn) Write(p []byte) (int, error) {
	c.log.mu.Lock()
	c.log.writes = append(c.log.writes, bytes.Clone(p))
	c.log.mu.Unlock()
	return c.Conn.Write(p)
}

// A new WebSocket session's handshake response and open packet go out in
// one write; an upgrade's response goes out alone, at once, since the
// client speaks first (the probe).
func TestWebSocket_HandshakeResponseWithOpenPacket(t *testing.T) {
	var wl *writeLog
	ts := newTestServerHTTP(t, fastOptions(), nil, func(hts *httptest.Server) {
		wl = &writeLog{Listener: hts.Listener}
		hts.Listener = wl
	})

	ws := ts.mustDialWS(t, "EIO=4&transport=websocket")
	open := ws.mustRead()
	writes := wl.all()
	require.NotEmpty(t, writes)
	first := string(writes[0])
	assert.True(t, strings.HasPrefix(first, "HTTP/1.1 101 "), "first write: %q", first)
	require.Less(t, len(open), 126) // a one-byte length
	assert.True(t, strings.HasSuffix(first, "\r\n\r\n\x81"+string([]byte{byte(len(open))})+open), "first write: %q", first)
	ws.close()

	// Upgrade: the 101 is written before the probe is read.
	c := ts.client(t)
	sid := sidOf(t, c.get("EIO=4&transport=polling").body)
	n := len(wl.all())
	up := ts.mustDialWS(t, "EIO=4&transport=websocket&sid="+sid)
	defer up.close()
	up.send("2probe")
	assert.Equal(t, "3probe", up.mustRead())
	var responses []string
	for _, w := range wl.all()[n:] {
		if strings.HasPrefix(string(w), "HTTP/1.1 101 ") {
			responses = append(responses, string(w))
		}
	}
	require.Len(t, responses, 1)
	assert.True(t, strings.HasSuffix(responses[0], "\r\n\r\n"), "the upgrade's 101 is written alone: %q", responses[0])
}

func TestReadMessage(t *testing.T) {
	for _, n := range []int{0, 1, 4095, 4096, 4097, 100_000} {
		data := bytes.Repeat([]byte{'x'}, n)
		for name, r := range map[string]io.Reader{
			"plain":    bytes.NewReader(data),
			"one byte": iotest.OneByteReader(bytes.NewReader(data)),
			"data+EOF": iotest.DataErrReader(bytes.NewReader(data)),
		} {
			got, err := readMessage(r, int64(n))
			require.NoError(t, err, "%d bytes, %s", n, name)
			assert.Equal(t, data, got, "%d bytes, %s", n, name)
			assert.Equal(t, len(got), cap(got), "exact size")
			_, err = readMessage(bytes.NewReader(data), int64(n)-1)
			if n > 0 {
				assert.ErrorIs(t, err, ErrPayloadTooLarge, "%d bytes, limit %d", n, n-1)
			}
		}
	}
	// Never more than one byte past the limit is read.
	r := &countingReader{r: bytes.NewReader(make([]byte, 1<<20))}
	_, err := readMessage(r, 10_000)
	assert.ErrorIs(t, err, ErrPayloadTooLarge)
	assert.Equal(t, 10_001, r.n)
	// Errors other than EOF are the caller's.
	_, err = readMessage(iotest.ErrReader(io.ErrUnexpectedEOF), 100)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}
