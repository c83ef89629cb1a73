package engineio

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/gosio/internal/syncbuf"
)

// Hostile WebSocket clients (RELIABILITY rows 2, 4, 5): a bare TCP
// connection, a hand-written upgrade request and hand-made masked frames.

// rawWS is a WebSocket client that writes whatever frames a test builds.
type rawWS struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
}

const rawWSKey = "dGhlIHNhbXBsZSBub25jZQ==" // RFC 6455 §1.3

var rawMask = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// Frame bits.
const (
	rawFin          = 0x80
	rawOpCont       = 0x0
	rawOpText       = 0x1
	rawOpBinary     = 0x2
	rawOpClose      = 0x8
	rawMaskBit      = 0x80
	rawMaxFrameRead = 16 << 20
)

// rawHandshake dials the test server and sends a WebSocket upgrade for
// query with extraHeaders (complete "Name: value\r\n" lines). It returns
// the client and the server's response; for a 101 the connection then
// carries frames.
func rawHandshake(t testing.TB, ts *testServer, query, extraHeaders string) (*rawWS, *http.Response) {
	t.Helper()
	addr := ts.ts.Listener.Addr().String()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { _ = nc.Close() })
	require.NoError(t, nc.SetDeadline(time.Now().Add(10*time.Second)))

	req := "GET " + ts.Path() + "?" + query + " HTTP/1.1\r\n" +
		"Host: " + addr + "\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + rawWSKey + "\r\n" +
		"Sec-WebSocket-Version: 13\r\n" +
		extraHeaders + "\r\n"
	// Write concurrently: a server that refuses a huge request answers
	// (and may stop reading) before the request is written.
	written := make(chan error, 1)
	go func() {
		_, err := io.WriteString(nc, req)
		written <- err
	}()
	c := &rawWS{t: t, nc: nc, br: bufio.NewReaderSize(nc, 64<<10)}
	res, err := http.ReadResponse(c.br, nil)
	require.NoError(t, err, "no HTTP answer to the handshake")
	if res.StatusCode != http.StatusSwitchingProtocols {
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20))
		res.Body.Close()
		_ = nc.Close() // unblocks the writer if the server stopped reading
	}
	select {
	case <-written:
	case <-time.After(10 * time.Second):
		t.Fatal("handshake write never ended")
	}
	return c, res
}

// mustOpen performs a handshake that must succeed and returns the open
// packet.
func mustOpenRaw(t testing.TB, ts *testServer, extraHeaders string) (*rawWS, string) {
	t.Helper()
	c, res := rawHandshake(t, ts, "EIO=4&transport=websocket", extraHeaders)
	require.Equal(t, http.StatusSwitchingProtocols, res.StatusCode)
	op, payload, err := c.readFrame()
	require.NoError(t, err)
	require.Equal(t, byte(rawOpText), op)
	require.True(t, strings.HasPrefix(string(payload), "0{"), "%q", payload)
	return c, string(payload)
}

// appendFrame appends a masked client frame. b0 holds FIN and the opcode.
func appendFrame(dst []byte, b0 byte, payload []byte) []byte {
	n := len(payload)
	switch {
	case n < 126:
		dst = append(dst, b0, rawMaskBit|byte(n))
	case n <= 0xffff:
		dst = append(dst, b0, rawMaskBit|126, byte(n>>8), byte(n))
	default:
		dst = append(dst, b0, rawMaskBit|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	dst = append(dst, rawMask[:]...)
	for i, b := range payload {
		dst = append(dst, b^rawMask[i%4])
	}
	return dst
}

func (c *rawWS) write(b []byte) error {
	_ = c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := c.nc.Write(b)
	return err
}

func (c *rawWS) writeFrame(b0 byte, payload []byte) error {
	return c.write(appendFrame(nil, b0, payload))
}

// readFrame reads one unmasked server frame.
func (c *rawWS) readFrame() (op byte, payload []byte, err error) {
	_ = c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		return 0, nil, err
	}
	if h[1]&rawMaskBit != 0 {
		return 0, nil, errors.New("server frame is masked")
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(c.br, b[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(c.br, b[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if n > rawMaxFrameRead {
		return 0, nil, fmt.Errorf("server frame of %d bytes", n)
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(c.br, payload); err != nil {
		return 0, nil, err
	}
	return h[0] & 0x0f, payload, nil
}

// closeCode reads frames until a close frame or the end of the
// connection. It returns the close frame's status (1005 when it has none)
// or -1 if the connection ended without one.
func (c *rawWS) closeCode() int {
	for range 1000 {
		op, payload, err := c.readFrame()
		if err != nil {
			return -1
		}
		if op == rawOpClose {
			if len(payload) < 2 {
				return websocket.CloseNoStatusReceived
			}
			return int(binary.BigEndian.Uint16(payload))
		}
	}
	c.t.Fatal("no close after 1000 frames")
	return 0
}

// RELIABILITY row 2 (CVE-2020-27813 class): a frame header announcing
// 2^63-1 bytes is refused from the header alone, before any allocation.
func TestHostile_HugeLengthHeader(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	c, _ := mustOpenRaw(t, ts, "")
	ts.rec.session(t)

	before := totalAlloc()
	hdr := []byte{rawFin | rawOpText, rawMaskBit | 127}
	hdr = binary.BigEndian.AppendUint64(hdr, 1<<63-1)
	hdr = append(hdr, rawMask[:]...)
	require.NoError(t, c.write(hdr))

	ev := ts.rec.closed(t)
	allocated := totalAlloc() - before
	assert.Equal(t, ReasonTransportError, ev.reason)
	assert.ErrorIs(t, ev.err, websocket.ErrReadLimit)
	assert.Less(t, allocated, uint64(4<<20), "allocated %d bytes", allocated)
	if code := c.closeCode(); code != -1 {
		assert.Equal(t, websocket.CloseMessageTooBig, code)
	}
	assert.Zero(t, ts.ClientsCount())
}

// RELIABILITY row 2: MaxHTTPBufferSize bounds one WebSocket message:
// exactly the limit is delivered, one byte more closes with 1009 (Node
// passes maxPayload to ws), whether in one frame or in fragments.
func TestHostile_MessageSizeLimit(t *testing.T) {
	const limit = 1000
	t.Run("exact limit delivered, limit+1 refused", func(t *testing.T) {
		ts := newTestServer(t, &Options{MaxHTTPBufferSize: limit}, nil)
		c, open := mustOpenRaw(t, ts, "")
		assert.Equal(t, int64(limit), parseOpen(t, open).MaxPayload)
		ts.rec.session(t)

		text := "4" + strings.Repeat("a", limit-1)
		require.NoError(t, c.writeFrame(rawFin|rawOpText, []byte(text)))
		assert.Equal(t, message{text[1:], false}, ts.rec.message(t))
		bin := []byte(strings.Repeat("\x01", limit))
		require.NoError(t, c.writeFrame(rawFin|rawOpBinary, bin))
		assert.Equal(t, message{string(bin), true}, ts.rec.message(t))

		_ = c.writeFrame(rawFin|rawOpText, []byte(text+"a"))
		ev := ts.rec.closed(t)
		assert.Equal(t, ReasonTransportError, ev.reason)
		assert.ErrorIs(t, ev.err, websocket.ErrReadLimit)
		assert.Equal(t, websocket.CloseMessageTooBig, c.closeCode())
		assert.Empty(t, ts.rec.messages)
	})
	t.Run("fragments", func(t *testing.T) {
		ts := newTestServer(t, &Options{MaxHTTPBufferSize: limit}, nil)
		c, _ := mustOpenRaw(t, ts, "")
		ts.rec.session(t)

		// limit bytes in three fragments: delivered.
		require.NoError(t, c.writeFrame(rawOpText, []byte("4"+strings.Repeat("b", 499))))
		require.NoError(t, c.writeFrame(rawOpCont, []byte(strings.Repeat("b", 400))))
		require.NoError(t, c.writeFrame(rawFin|rawOpCont, []byte(strings.Repeat("b", 100))))
		assert.Equal(t, message{strings.Repeat("b", limit-1), false}, ts.rec.message(t))

		// limit+1: refused at the fragment that crosses it.
		require.NoError(t, c.writeFrame(rawOpText, []byte("4"+strings.Repeat("c", 599))))
		_ = c.writeFrame(rawFin|rawOpCont, []byte(strings.Repeat("c", 401)))
		ev := ts.rec.closed(t)
		assert.Equal(t, ReasonTransportError, ev.reason)
		assert.Equal(t, websocket.CloseMessageTooBig, c.closeCode())
	})
}

// RELIABILITY row 4 (ws GHSA-96hv-2xvq-fx4p, ws #2329): a message that
// never ends, made of 100 000 empty continuation frames and 50 000 one-byte
// fragments, costs no memory per fragment and is ended by the heartbeat.
func TestHostile_FragmentFlood(t *testing.T) {
	ts := newTestServer(t, fastOptions(), nil)
	c, _ := mustOpenRaw(t, ts, "")
	ts.rec.session(t)
	start := time.Now()
	before := totalAlloc()

	const batch = 1000
	empty := appendFrame(nil, rawOpCont, nil)
	oneByte := appendFrame(nil, rawOpCont, []byte{'x'})
	buf := make([]byte, 0, batch*len(oneByte))
	writes, failed := 0, false
	writeBatch := func(frame []byte) bool {
		buf = buf[:0]
		for range batch {
			buf = append(buf, frame...)
		}
		writes++
		return c.write(buf) == nil
	}
	if c.writeFrame(rawOpText, []byte("4")) != nil { // FIN=0: the message goes on
		failed = true
	}
	for i := 0; i < 100_000/batch && !failed; i++ {
		failed = !writeBatch(empty)
	}
	for i := 0; i < 50_000/batch && !failed; i++ {
		failed = !writeBatch(oneByte)
	}
	t.Logf("%d batches of %d frames written, write failed: %v, after %v", writes, batch, failed, time.Since(start))

	ev := ts.rec.closed(t)
	elapsed := time.Since(start)
	allocated := totalAlloc() - before
	assert.Equal(t, ReasonPingTimeout, ev.reason, "the client never answered the ping")
	t.Logf("closed after %v", elapsed)
	assert.Less(t, allocated, uint64(32<<20), "allocated %d bytes", allocated)
	assert.Empty(t, ts.rec.messages)
	assert.Zero(t, ts.ClientsCount())
	// The connection is gone: reading ends (after the ping and the
	// server's close frame, if they made it).
	for range 10 {
		if _, _, err := c.readFrame(); err != nil {
			return
		}
	}
	t.Error("connection still open")
}

// RELIABILITY row 5 (ws CVE-2024-37890, CVE-2021-32640): header abuse on
// the upgrade request is handled in linear time without a panic: either
// refused with a 4xx before reaching the server, or accepted as a normal
// session. net/http has no header-count limit; it bounds the header
// block at MaxHeaderBytes (1 MiB) + 4 KiB and answers 431 beyond.
func TestHostile_HeaderAbuse(t *testing.T) {
	manyHeaders := func(n, valueLen int) string {
		var b strings.Builder
		v := strings.Repeat("v", valueLen)
		for i := range n {
			fmt.Fprintf(&b, "X-Abuse-%d: %s\r\n", i, v)
		}
		return b.String()
	}
	for _, tc := range []struct {
		name     string
		headers  string
		deflate  bool
		refused  bool // must be answered 431
		accepted bool // must be answered 101
	}{
		{"2000 headers", manyHeaders(2000, 1), false, false, true},
		{"2000 headers over MaxHeaderBytes", manyHeaders(2000, 600), false, true, false},
		{"1 MiB Sec-WebSocket-Protocol", "Sec-WebSocket-Protocol: " + strings.Repeat("p", 1<<20) + "\r\n", false, false, true},
		{"Sec-WebSocket-Protocol over MaxHeaderBytes", "Sec-WebSocket-Protocol: " + strings.Repeat("p,", 1<<19+4096) + "\r\n", false, true, false},
		{"malformed Sec-WebSocket-Extensions", "Sec-WebSocket-Extensions: permessage-deflate; ;;,,=x\r\n", true, false, false},
		{"malformed Sec-WebSocket-Extensions, deflate off", "Sec-WebSocket-Extensions: permessage-deflate; ;;,,=x\r\n", false, false, false},
		{"extension parameter soup", "Sec-WebSocket-Extensions: " + strings.Repeat("permessage-deflate; client_max_window_bits=\"", 2000) + "\r\n", true, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs syncbuf.Buffer
			errs := newConnErrors()
			opts := &Options{OnConnectionError: errs.hook}
			if tc.deflate {
				opts.PerMessageDeflate = &PerMessageDeflate{}
			}
			ts := newTestServerHTTP(t, opts, nil, withErrorLog(&logs))

			// Bounded by rawHandshake's own deadline; no timing assertion
			// (machines are shared and noisy).
			c, res := rawHandshake(t, ts, "EIO=4&transport=websocket", tc.headers)
			switch {
			case tc.refused:
				assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, res.StatusCode)
			case tc.accepted:
				assert.Equal(t, http.StatusSwitchingProtocols, res.StatusCode)
			default:
				ok := res.StatusCode == http.StatusSwitchingProtocols || res.StatusCode/100 == 4
				assert.True(t, ok, "status %d: want 101 or 4xx", res.StatusCode)
			}
			if res.StatusCode != http.StatusSwitchingProtocols {
				assert.Zero(t, ts.ClientsCount(), "no session")
				assert.Empty(t, ts.rec.sessions, "OnConnection not called")
			} else {
				// A normal session: it works, then closes cleanly.
				assert.Empty(t, res.Header.Values("Sec-Websocket-Protocol"), "no subprotocol is ever selected")
				op, open, err := c.readFrame()
				require.NoError(t, err)
				require.Equal(t, byte(rawOpText), op)
				parseOpen(t, string(open))
				ts.rec.session(t)
				require.NoError(t, c.writeFrame(rawFin|rawOpText, []byte("4still fine")))
				assert.Equal(t, message{"still fine", false}, ts.rec.message(t))
				_ = c.nc.Close()
				assert.Equal(t, ReasonTransportClose, ts.rec.closed(t).reason)
				assert.Zero(t, ts.ClientsCount())
			}
			assert.NotContains(t, logs.String(), "panic")
		})
	}
}

// A text frame must hold UTF-8 (RFC 6455 §8.1); Node's ws closes with
// 1007 and engine.io reports "transport error".
func TestHostile_InvalidUTF8(t *testing.T) {
	for _, tc := range []struct {
		name   string
		frames [][2]any // b0, payload
	}{
		{"one frame", [][2]any{{byte(rawFin | rawOpText), "4\xff\xfe"}}},
		{"truncated sequence", [][2]any{{byte(rawFin | rawOpText), "4caf\xc3"}}},
		{"surrogate", [][2]any{{byte(rawFin | rawOpText), "4\xed\xa0\x80"}}},
		{"split over fragments", [][2]any{{byte(rawOpText), "4ok\xe2\x82"}, {byte(rawFin | rawOpCont), "\x28"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t, nil, nil)
			c, _ := mustOpenRaw(t, ts, "")
			ts.rec.session(t)
			for _, f := range tc.frames {
				require.NoError(t, c.writeFrame(f[0].(byte), []byte(f[1].(string))))
			}
			ev := ts.rec.closed(t)
			assert.Equal(t, ReasonTransportError, ev.reason)
			assert.Empty(t, ts.rec.messages, "nothing delivered")
			assert.Equal(t, websocket.CloseInvalidFramePayloadData, c.closeCode(), "close code for invalid UTF-8")
		})
	}
	t.Run("valid UTF-8 split over fragments", func(t *testing.T) {
		ts := newTestServer(t, nil, nil)
		c, _ := mustOpenRaw(t, ts, "")
		ts.rec.session(t)
		require.NoError(t, c.writeFrame(rawOpText, []byte("4\xe2\x82")))
		require.NoError(t, c.writeFrame(rawFin|rawOpCont, []byte("\xac")))
		assert.Equal(t, message{"€", false}, ts.rec.message(t))
	})
}
