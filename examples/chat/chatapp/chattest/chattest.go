// Package chattest is for tests of the chat examples (examples/chat and
// examples/cluster): a raw Socket.IO client over a raw Engine.IO
// WebSocket, which sends and reads the chat's frames exactly as they are
// on the wire, and fails the test (through testing.TB) on anything
// unexpected.
//
//	alice := chattest.Dial(t, ts.URL)
//	got := alice.Call("join", `{"nick":"alice","room":"go"}`)
//
// It speaks just enough of the protocols for the chat: the main namespace,
// events with one JSON argument, at most one binary attachment sent, acks
// with one argument, pings answered while reading. It is not a general
// Socket.IO client.
package chattest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// DefaultReadTimeout bounds each read of a [Client] whose [Dialer] sets no
// ReadTimeout.
const DefaultReadTimeout = 10 * time.Second

// Dialer opens [Client] connections. The zero value is ready to use.
type Dialer struct {
	// Recovery says the server has connection state recovery on, as the
	// chat has: Dial then requires the socket id and the private id in
	// the CONNECT answer (see [Client.SetSession]), and every event
	// without ack id that ends with an extra argument must end with a
	// non-empty offset (see [Frame.Offset]). Without it, such a trailing
	// argument is dropped unchecked.
	Recovery bool

	// ReadTimeout bounds each read from the connection; zero means
	// [DefaultReadTimeout].
	ReadTimeout time.Duration
}

// Client speaks Socket.IO frames over a raw Engine.IO WebSocket. Its
// methods are for the test's goroutine only, except [Client.Drain].
type Client struct {
	// SID and PID are the socket id and the private id (the proof a client
	// sends back to recover its session) of the CONNECT answer, once
	// [Client.SetSession] has read it.
	SID, PID string

	t           testing.TB
	conn        *websocket.Conn
	nextID      int
	recovery    bool
	readTimeout time.Duration
}

// Dial connects to the main namespace of the server at base
// (http://host:port) with the zero [Dialer].
func Dial(t testing.TB, base string) *Client {
	t.Helper()
	return Dialer{}.Dial(t, base)
}

// Dial connects to the main namespace of the server at base
// (http://host:port) and requires the CONNECT answer (with d.Recovery,
// its session ids, kept in SID and PID).
func (d Dialer) Dial(t testing.TB, base string) *Client {
	t.Helper()
	c, f := d.DialAuth(t, base, "")
	require.Equal(t, "0", f.Type, f)
	if d.Recovery {
		c.SetSession(f)
	}
	return c
}

// DialAuth connects with the CONNECT payload auth (none if empty) and
// returns the client and its first Socket.IO frame: the CONNECT answer or,
// for a recovered session, the first event it missed. The connection is
// closed at the test's cleanup.
func (d Dialer) DialAuth(t testing.TB, base, auth string) (*Client, Frame) {
	t.Helper()
	url := "ws" + strings.TrimPrefix(base, "http") + "/socket.io/?EIO=4&transport=websocket"
	conn, _, err := websocket.DefaultDialer.Dial(url, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	c := &Client{t: t, conn: conn, recovery: d.Recovery, readTimeout: d.ReadTimeout}
	if c.readTimeout <= 0 {
		c.readTimeout = DefaultReadTimeout
	}
	open := c.ReadRaw()
	require.True(t, strings.HasPrefix(open, "0{"), open)
	c.Send("0" + auth)
	return c, c.Next()
}

// SetSession reads the CONNECT answer f: the socket id and, recovery being
// on, the private id a client sends back to recover its session.
func (c *Client) SetSession(f Frame) {
	c.t.Helper()
	require.Equal(c.t, "0", f.Type, f)
	require.Len(c.t, f.Args, 1, f)
	var ids struct{ SID, PID string }
	require.NoError(c.t, json.Unmarshal(f.Args[0], &ids))
	require.NotEmpty(c.t, ids.SID, "%s", f.Args[0])
	require.NotEmpty(c.t, ids.PID, "%s: no pid, is connection state recovery off?", f.Args[0])
	c.SID, c.PID = ids.SID, ids.PID
}

// Close closes the connection without a close frame: for the server, a
// transport close (recoverable).
func (c *Client) Close() error { return c.conn.Close() }

// Send writes one Socket.IO text frame (the Engine.IO message type "4" is
// added).
func (c *Client) Send(frame string) {
	c.t.Helper()
	require.NoError(c.t, c.conn.WriteMessage(websocket.TextMessage, []byte("4"+frame)))
}

// ReadRaw reads one WebSocket message: a text message as it is, a binary
// one with the prefix "bin:".
func (c *Client) ReadRaw() string {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(c.readTimeout))
	op, b, err := c.conn.ReadMessage()
	require.NoError(c.t, err)
	if op == websocket.BinaryMessage {
		return "bin:" + string(b)
	}
	return string(b)
}

// Drain reads, answering pings and the close frame, until the connection
// ends or timeout passes, and reports how it ended. It runs on a goroutine
// of its own, which ends with the connection; the client must not be read
// from meanwhile.
func (c *Client) Drain(timeout time.Duration) <-chan error {
	done := make(chan error, 1)
	go func() {
		_ = c.conn.SetReadDeadline(time.Now().Add(timeout))
		for {
			_, b, err := c.conn.ReadMessage()
			if err != nil {
				done <- err
				return
			}
			if string(b) == "2" {
				_ = c.conn.WriteMessage(websocket.TextMessage, []byte("3"))
			}
		}
	}()
	return done
}

// Args joins an event name and its raw JSON argument (none if empty) into
// the arguments of an EVENT packet.
func Args(event, arg string) string {
	if arg == "" {
		return `["` + event + `"]`
	}
	return `["` + event + `",` + arg + `]`
}

// Emit sends an event with an ack id and returns the id.
func (c *Client) Emit(event, arg string) int {
	c.t.Helper()
	id := c.nextID
	c.nextID++
	c.Send("2" + strconv.Itoa(id) + Args(event, arg))
	return id
}

// EmitNoAck sends an event without ack id.
func (c *Client) EmitNoAck(event, arg string) {
	c.t.Helper()
	c.Send("2" + Args(event, arg))
}

// EmitBinary sends an event with one binary attachment and an ack id, and
// returns the id.
func (c *Client) EmitBinary(event, arg string, bin []byte) int {
	c.t.Helper()
	id := c.nextID
	c.nextID++
	c.Send("51-" + strconv.Itoa(id) + Args(event, arg))
	require.NoError(c.t, c.conn.WriteMessage(websocket.BinaryMessage, bin))
	return id
}

// Call emits an event and returns its ack's argument, which must be the
// next frame.
func (c *Client) Call(event, arg string) string {
	c.t.Helper()
	return c.AckOf(c.Emit(event, arg))
}

// CallSkipping is [Client.Call], skipping the events named skip that may
// come before the ack.
func (c *Client) CallSkipping(event, arg, skip string) string {
	c.t.Helper()
	id := c.Emit(event, arg)
	for range 100 {
		f := c.Next()
		if f.Event() == skip {
			continue
		}
		return c.ackArg(f, id)
	}
	c.t.Fatalf("no ack %d among 100 frames", id)
	return ""
}

// AckOf reads the next frame, which must be the ack id, and returns its
// single argument.
func (c *Client) AckOf(id int) string {
	c.t.Helper()
	return c.ackArg(c.Next(), id)
}

// ackArg requires f to be the ack id with one argument, and returns it.
func (c *Client) ackArg(f Frame, id int) string {
	c.t.Helper()
	require.Equal(c.t, "3", f.Type, "want ack %d, got %v", id, f)
	require.Equal(c.t, id, f.ID, f)
	require.Len(c.t, f.Args, 1, f)
	return string(f.Args[0])
}

// ExpectAck reads the ack id, which must be the next frame, and checks
// that its argument is the JSON want.
func (c *Client) ExpectAck(id int, want string) {
	c.t.Helper()
	assert.JSONEq(c.t, want, c.AckOf(id))
}

// Expect reads the next frame, which must be event with the JSON argument
// want, kept for recovery (an offset).
func (c *Client) Expect(event, want string) {
	c.t.Helper()
	f := c.Next()
	require.Equal(c.t, event, f.Event(), f)
	require.Len(c.t, f.Args, 2, f)
	assert.JSONEq(c.t, want, string(f.Args[1]))
	assert.NotEmpty(c.t, f.Offset, "no offset: %v", f)
}

// ExpectIgnoringAt reads the next frame, which must be event with the JSON
// argument want once its "at" timestamp, if any, is left out.
func (c *Client) ExpectIgnoringAt(event, want string) {
	c.t.Helper()
	f := c.Next()
	require.Equal(c.t, event, f.Event(), f)
	require.Len(c.t, f.Args, 2, f)
	var m map[string]any
	require.NoError(c.t, json.Unmarshal(f.Args[1], &m))
	delete(m, "at")
	got, err := json.Marshal(m)
	require.NoError(c.t, err)
	assert.JSONEq(c.t, want, string(got))
}

// Frame is a decoded Socket.IO packet of the main namespace.
type Frame struct {
	Type   string // "0" connect, "2" event, "3" ack ("5"/"6" read as "2"/"3")
	ID     int    // ack id, -1 if none
	Args   []json.RawMessage
	Offset string // an event's recovery offset, taken off Args (see Dialer.Recovery)
	Bins   [][]byte
}

// String formats f for failure messages, each argument cut to 100 bytes.
func (f Frame) String() string {
	args := make([]string, len(f.Args))
	for i, a := range f.Args {
		args[i] = fmt.Sprintf("%.100s", a)
	}
	return fmt.Sprintf("{typ:%s id:%d args:[%s] offset:%q bins:%d}", f.Type, f.ID, strings.Join(args, ","), f.Offset, len(f.Bins))
}

// Event returns the name of an event, "" for any other packet.
func (f Frame) Event() string {
	if f.Type != "2" || len(f.Args) == 0 {
		return ""
	}
	var name string
	_ = json.Unmarshal(f.Args[0], &name)
	return name
}

// Next reads and decodes the next Socket.IO packet, with its binary
// attachments; pings are answered and skipped.
func (c *Client) Next() Frame {
	c.t.Helper()
	var m string
	for {
		m = c.ReadRaw()
		if m != "2" {
			break
		}
		require.NoError(c.t, c.conn.WriteMessage(websocket.TextMessage, []byte("3")))
	}
	require.True(c.t, strings.HasPrefix(m, "4") && len(m) >= 2, "not a Socket.IO frame: %.100q", m)
	f := Frame{Type: m[1:2], ID: -1}
	rest := m[2:]
	nbin := 0
	if f.Type == "5" || f.Type == "6" {
		n, after, ok := strings.Cut(rest, "-")
		require.True(c.t, ok, m)
		var err error
		nbin, err = strconv.Atoi(n)
		require.NoError(c.t, err)
		rest = after
		f.Type = map[string]string{"5": "2", "6": "3"}[f.Type]
	}
	i := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	if i > 0 {
		f.ID, _ = strconv.Atoi(rest[:i])
	}
	if rest = rest[i:]; rest != "" {
		if f.Type == "0" { // CONNECT: an object, not arguments
			rest = "[" + rest + "]"
		}
		require.NoError(c.t, json.Unmarshal([]byte(rest), &f.Args), "%.200s", m)
	}
	// With connection state recovery, an event without ack id that the
	// server keeps ends with its offset, a string. No event of the chat
	// has a string as its own last argument: a trailing string after the
	// event's one argument is the offset.
	if f.Type == "2" && f.ID < 0 && len(f.Args) == 3 {
		if c.recovery {
			require.NoError(c.t, json.Unmarshal(f.Args[2], &f.Offset), "offset of %.200s", m)
			require.NotEmpty(c.t, f.Offset, m)
		}
		f.Args = f.Args[:2]
	}
	for range nbin {
		b := c.ReadRaw()
		require.True(c.t, strings.HasPrefix(b, "bin:"), "want an attachment, got %.100q", b)
		f.Bins = append(f.Bins, []byte(b[4:]))
	}
	return f
}
