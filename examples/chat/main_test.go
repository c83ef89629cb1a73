package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/gosio/examples/chat/chatapp"
	"github.com/gosio/gosio/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// newTestServer serves the chat on a loopback httptest server and returns
// its base URL.
func newTestServer(t *testing.T, clientDir string) string {
	t.Helper()
	srv, h, err := chatapp.NewHandler(&chatapp.Options{ClientDir: clientDir, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	ts := httptest.NewServer(h)
	t.Cleanup(func() {
		_ = srv.Close()
		ts.CloseClientConnections()
		ts.Close()
	})
	return ts.URL
}

func TestPageAndClient(t *testing.T) {
	dir := t.TempDir()
	base := newTestServer(t, dir)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	t.Cleanup(client.CloseIdleConnections)
	get := func(path string) (*http.Response, string) {
		t.Helper()
		res, err := client.Get(base + path)
		require.NoError(t, err)
		body, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		res.Body.Close()
		return res, string(body)
	}

	res, page := get("/")
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.Header.Get("Content-Type"), "text/html")
	assert.Contains(t, page, `<script src="/socket.io.min.js">`)
	assert.Contains(t, page, `io({ transports: ["polling", "websocket"] })`)

	// No local client build in the directory: redirected to the CDN.
	res, _ = get("/socket.io.min.js")
	assert.Equal(t, http.StatusFound, res.StatusCode)
	assert.Equal(t, chatapp.CDNClient, res.Header.Get("Location"))

	// With it: served from there.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "socket.io.min.js"), []byte("/* io */"), 0o644))
	res, body := get("/socket.io.min.js")
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "/* io */", body)

	res, _ = get("/nope")
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
}

// The CDN fallback is the version the conformance tests pin.
func TestClientVersionPinned(t *testing.T) {
	b, err := os.ReadFile("../../conformance/package.json")
	require.NoError(t, err)
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	require.NoError(t, json.Unmarshal(b, &pkg))
	assert.Equal(t, pkg.Dependencies["socket.io-client"], chatapp.ClientVersion)
}

func TestChat(t *testing.T) {
	url := "ws" + strings.TrimPrefix(newTestServer(t, t.TempDir()), "http") + "/socket.io/"
	alice := dial(t, url)
	bob := dial(t, url)

	// Join: the ack lists the members, the others hear of it.
	assert.Equal(t, `{"ok":true,"members":["alice"]}`, alice.call("join", `{"nick":" alice ","room":"go"}`))
	assert.Equal(t, `{"ok":true,"members":["alice","bob"]}`, bob.call("join", `{"nick":"bob","room":"go"}`))
	alice.expect("user joined", `{"nick":"bob"}`)

	// Chat: everyone in the room, the sender included, gets it.
	id := alice.emit("chat", `{"text":"  hello, go  "}`)
	f := alice.next()
	require.Equal(t, "chat", f.event(), f)
	require.Len(t, f.args, 2, f)
	assert.JSONEq(t, `{"nick":"alice","text":"hello, go"}`, withoutAt(t, f.args[1]))
	assert.NotEmpty(t, f.offset, f)
	alice.expectAck(id, `{"ok":true}`)
	f = bob.next()
	require.Equal(t, "chat", f.event(), f)
	require.Len(t, f.args, 2, f)
	assert.JSONEq(t, `{"nick":"alice","text":"hello, go"}`, withoutAt(t, f.args[1]))
	assert.NotEmpty(t, f.offset, f)

	// Typing: the others only. It is volatile, dropped when alice's
	// connection is busy writing, so bob follows it with a chat until
	// alice sees it; bob never gets his own.
	sawTyping := false
	for range 50 {
		bob.emitNoAck("typing", `{"typing":true}`)
		id := bob.emit("chat", `{"text":"bob here"}`)
		f := bob.next()
		require.Equal(t, "chat", f.event(), f)
		bob.expectAck(id, `{"ok":true}`)
		if f = alice.next(); f.event() == "typing" {
			require.Len(t, f.args, 2, f)
			assert.JSONEq(t, `{"nick":"bob","typing":true}`, string(f.args[1]))
			assert.Empty(t, f.offset, "a volatile event is not kept for recovery: no offset")
			sawTyping = true
			f = alice.next()
		}
		require.Equal(t, "chat", f.event(), f)
		if sawTyping {
			break
		}
	}
	require.True(t, sawTyping, "typing never reached alice")

	// Image: a binary attachment, intact, to the others; the sender gets
	// the ack and not her image back.
	img := bytes.Repeat([]byte{0x89, 'P', 'N', 'G', 0, 0xff, '\n', 0x1e}, 64<<10) // 512 KiB
	id = alice.emitBinary("image", `{"name":"cat.png","mime":"image/png","data":{"_placeholder":true,"num":0}}`, img)
	alice.expectAck(id, `{"ok":true}`)
	f = bob.next()
	require.Equal(t, "image", f.event(), f)
	require.Len(t, f.args, 2, f)
	assert.NotEmpty(t, f.offset, "a binary event has its offset too: %v", f)
	var got struct {
		Nick, Name, Mime string
		At               int64
		Data             struct {
			Placeholder bool `json:"_placeholder"`
		}
	}
	require.NoError(t, json.Unmarshal(f.args[1], &got))
	assert.True(t, got.Data.Placeholder)
	assert.Equal(t, "alice", got.Nick)
	assert.Equal(t, "cat.png", got.Name)
	assert.Equal(t, "image/png", got.Mime)
	assert.NotZero(t, got.At)
	require.Len(t, f.bins, 1)
	assert.True(t, bytes.Equal(img, f.bins[0]), "image altered")

	// Invalid input: an error in the ack, the state unchanged.
	placeholder := `"data":{"_placeholder":true,"num":0}`
	for _, c := range []struct{ event, arg, bin, want string }{
		{"join", `{"nick":"   ","room":"go"}`, "", "nickname is empty"},
		{"join", `{"nick":"` + strings.Repeat("é", 33) + `","room":"go"}`, "", "nickname is too long"},
		{"join", `{"nick":"a\u0007b","room":"go"}`, "", "nickname contains control characters"},
		{"join", `{"nick":"alice","room":"Go!"}`, "", "room must be"},
		{"join", `{"nick":"alice","room":""}`, "", "room must be"},
		{"join", `{"nick":"alice","room":"` + strings.Repeat("a", 33) + `"}`, "", "room must be"},
		{"join", `"alice"`, "", "invalid payload"}, // not an object
		{"chat", `{"text":" \n "}`, "", "message is empty"},
		{"chat", `{"text":"` + strings.Repeat("x", 2001) + `"}`, "", "longer than 2000"},
		{"chat", `{"text":42}`, "", "invalid payload"},
		{"chat", ``, "", "message is empty"}, // no argument at all
		{"image", `{"name":"a.txt","mime":"text/plain",` + placeholder + `}`, "hi", "not an image"},
		{"image", `{"name":"big.png","mime":"image/png",` + placeholder + `}`, strings.Repeat("x", chatapp.MaxImageBytes+1), "larger than 2 MiB"},
		{"image", `{"name":"empty.png","mime":"image/png",` + placeholder + `}`, "", "empty image"},
	} {
		var ack string
		if c.event == "image" && strings.Contains(c.arg, placeholder) {
			ack = alice.ackOf(alice.emitBinary(c.event, c.arg, []byte(c.bin)))
		} else {
			ack = alice.call(c.event, c.arg)
		}
		var res chatapp.Result
		require.NoError(t, json.Unmarshal([]byte(ack), &res), ack)
		assert.False(t, res.OK, "%s %.80s: %s", c.event, c.arg, ack)
		assert.Contains(t, res.Error, c.want, "%s %.80s", c.event, c.arg)
	}
	// Before joining a room, only join is possible.
	carol := dial(t, url)
	assert.Equal(t, `{"ok":false,"error":"join a room first"}`, carol.call("chat", `{"text":"hi"}`))
	// Alice is still alice in "go", and bob heard nothing of it all.
	id = alice.emit("chat", `{"text":"still here"}`)
	alice.next()
	alice.expectAck(id, `{"ok":true}`)
	f = bob.next()
	require.Equal(t, "chat", f.event(), f)
	assert.JSONEq(t, `{"nick":"alice","text":"still here"}`, withoutAt(t, f.args[1]))

	// Moving rooms: left in the old one, joined in the new one.
	assert.Equal(t, `{"ok":true,"members":["bob"]}`, bob.call("join", `{"nick":"bob","room":"rust"}`))
	alice.expect("user left", `{"nick":"bob"}`)
	assert.Equal(t, `{"ok":true,"members":["alice","carol"]}`, carol.call("join", `{"nick":"carol","room":"go"}`))
	alice.expect("user joined", `{"nick":"carol"}`)
	assert.Equal(t, `{"ok":true,"members":["alice","bob"]}`, alice.call("join", `{"nick":"alice","room":"rust"}`))
	bob.expect("user joined", `{"nick":"alice"}`)
	carol.expect("user left", `{"nick":"alice"}`)
	// Joining the same room again changes nothing.
	assert.Equal(t, `{"ok":true,"members":["alice","bob"]}`, alice.call("join", `{"nick":"alice","room":"rust"}`))

	// Disconnecting: the room hears of it.
	require.NoError(t, bob.conn.Close())
	alice.expect("user left", `{"nick":"bob"}`)
	assert.Equal(t, `{"ok":true,"members":["alice"]}`, alice.call("join", `{"nick":"alice","room":"rust"}`))
}

// A client that lost its connection comes back with its socket id, room
// and nickname, and the messages it missed, without joining again; the
// others see it leave and come back.
func TestRecovery(t *testing.T) {
	url := "ws" + strings.TrimPrefix(newTestServer(t, t.TempDir()), "http") + "/socket.io/"
	alice := dial(t, url)
	bob := dial(t, url)
	alice.call("join", `{"nick":"alice","room":"go"}`)
	bob.call("join", `{"nick":"bob","room":"go"}`)
	alice.expect("user joined", `{"nick":"bob"}`)
	alice.emitNoAck("chat", `{"text":"before"}`)
	alice.next()
	f := bob.next()
	require.Equal(t, "chat", f.event(), f)
	offset := f.offset // bob's last offset

	require.NoError(t, bob.conn.Close()) // transport close: recoverable
	alice.expect("user left", `{"nick":"bob"}`)
	for _, text := range []string{"m1", "m2"} {
		alice.emitNoAck("chat", `{"text":"`+text+`"}`)
		alice.next()
	}

	auth, err := json.Marshal(map[string]string{"pid": bob.pid, "offset": offset})
	require.NoError(t, err)
	bob2, f := dialAuth(t, url, string(auth))
	// The missed messages, in order, before the CONNECT answer; not the
	// "user left" about himself.
	for _, text := range []string{"m1", "m2"} {
		require.Equal(t, "chat", f.event(), f)
		require.Len(t, f.args, 2, f)
		assert.JSONEq(t, `{"nick":"alice","text":"`+text+`"}`, withoutAt(t, f.args[1]))
		f = bob2.next()
	}
	bob2.setSession(f)
	assert.Equal(t, bob.sid, bob2.sid, "same socket id")
	alice.expect("user joined", `{"nick":"bob"}`)

	// Still bob in "go", without joining again.
	id := bob2.emit("chat", `{"text":"back"}`)
	f = bob2.next()
	require.Equal(t, "chat", f.event(), f)
	assert.JSONEq(t, `{"nick":"bob","text":"back"}`, withoutAt(t, f.args[1]))
	bob2.expectAck(id, `{"ok":true}`)
	f = alice.next()
	require.Equal(t, "chat", f.event(), f)
	assert.JSONEq(t, `{"nick":"bob","text":"back"}`, withoutAt(t, f.args[1]))
	assert.Equal(t, `{"ok":true,"members":["alice","bob"]}`, alice.call("join", `{"nick":"alice","room":"go"}`))

	// A session is recovered once: the same proof again starts afresh.
	bob3, f := dialAuth(t, url, string(auth))
	bob3.setSession(f)
	assert.NotEqual(t, bob.sid, bob3.sid)
	assert.Equal(t, `{"ok":false,"error":"join a room first"}`, bob3.call("chat", `{"text":"hi"}`))
}

// withoutAt checks a message's "at" timestamp and returns it without.
func withoutAt(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	at, ok := m["at"].(float64)
	require.True(t, ok, "no at in %s", raw)
	assert.InDelta(t, float64(time.Now().UnixMilli()), at, 60_000)
	delete(m, "at")
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return string(b)
}

// rawClient speaks Socket.IO frames over a raw Engine.IO WebSocket.
type rawClient struct {
	t        *testing.T
	conn     *websocket.Conn
	nextID   int
	sid, pid string // from the CONNECT answer
}

func dial(t *testing.T, url string) *rawClient {
	t.Helper()
	c, f := dialAuth(t, url, "")
	require.Equal(t, "0", f.typ, f)
	c.setSession(f)
	return c
}

// dialAuth connects with the CONNECT payload auth (none if empty) and
// returns the client and its first Socket.IO frame.
func dialAuth(t *testing.T, url, auth string) (*rawClient, frame) {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial(url+"?EIO=4&transport=websocket", nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	c := &rawClient{t: t, conn: conn}
	open := c.readRaw()
	require.True(t, strings.HasPrefix(open, "0{"), open)
	c.send("0" + auth)
	return c, c.next()
}

// setSession reads the CONNECT answer: the socket id and, recovery being
// on, the private id a client sends back to recover its session.
func (c *rawClient) setSession(f frame) {
	c.t.Helper()
	require.Equal(c.t, "0", f.typ, f)
	require.Len(c.t, f.args, 1, f)
	var ids struct{ SID, PID string }
	require.NoError(c.t, json.Unmarshal(f.args[0], &ids))
	require.NotEmpty(c.t, ids.SID, "%s", f.args[0])
	require.NotEmpty(c.t, ids.PID, "%s: no pid, is connection state recovery off?", f.args[0])
	c.sid, c.pid = ids.SID, ids.PID
}

// send writes one Socket.IO text frame.
func (c *rawClient) send(frame string) {
	c.t.Helper()
	require.NoError(c.t, c.conn.WriteMessage(websocket.TextMessage, []byte("4"+frame)))
}

func (c *rawClient) readRaw() string {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	op, b, err := c.conn.ReadMessage()
	require.NoError(c.t, err)
	if op == websocket.BinaryMessage {
		return "bin:" + string(b)
	}
	return string(b)
}

// args joins an event name and its raw JSON argument (none if empty).
func args(event, arg string) string {
	if arg == "" {
		return `["` + event + `"]`
	}
	return `["` + event + `",` + arg + `]`
}

// emit sends an event with an ack id and returns the id.
func (c *rawClient) emit(event, arg string) int {
	c.t.Helper()
	id := c.nextID
	c.nextID++
	c.send("2" + strconv.Itoa(id) + args(event, arg))
	return id
}

func (c *rawClient) emitNoAck(event, arg string) {
	c.t.Helper()
	c.send("2" + args(event, arg))
}

// emitBinary sends an event with one binary attachment and an ack id.
func (c *rawClient) emitBinary(event, arg string, bin []byte) int {
	c.t.Helper()
	id := c.nextID
	c.nextID++
	c.send("51-" + strconv.Itoa(id) + args(event, arg))
	require.NoError(c.t, c.conn.WriteMessage(websocket.BinaryMessage, bin))
	return id
}

// call emits an event and returns its ack's argument.
func (c *rawClient) call(event, arg string) string {
	c.t.Helper()
	return c.ackOf(c.emit(event, arg))
}

// ackOf reads the next frame, which must be the ack id, and returns its
// single argument.
func (c *rawClient) ackOf(id int) string {
	c.t.Helper()
	f := c.next()
	require.Equal(c.t, "3", f.typ, "want ack %d, got %+v", id, f)
	require.Equal(c.t, id, f.id, f)
	require.Len(c.t, f.args, 1, f)
	return string(f.args[0])
}

func (c *rawClient) expectAck(id int, want string) {
	c.t.Helper()
	assert.JSONEq(c.t, want, c.ackOf(id))
}

// expect reads the next frame, which must be event with argument want,
// kept for recovery (an offset).
func (c *rawClient) expect(event, want string) {
	c.t.Helper()
	f := c.next()
	require.Equal(c.t, event, f.event(), f)
	require.Len(c.t, f.args, 2, f)
	assert.JSONEq(c.t, want, string(f.args[1]))
	assert.NotEmpty(c.t, f.offset, "no offset: %v", f)
}

// frame is a decoded Socket.IO packet of the main namespace.
type frame struct {
	typ    string // "0" connect, "2" event, "3" ack ("5"/"6" read as "2"/"3")
	id     int    // ack id, -1 if none
	args   []json.RawMessage
	offset string // an event's recovery offset, taken off args
	bins   [][]byte
}

func (f frame) String() string {
	args := make([]string, len(f.args))
	for i, a := range f.args {
		args[i] = string(a)
	}
	return fmt.Sprintf("{typ:%s id:%d args:[%s] offset:%q bins:%d}", f.typ, f.id, strings.Join(args, ","), f.offset, len(f.bins))
}

func (f frame) event() string {
	if f.typ != "2" || len(f.args) == 0 {
		return ""
	}
	var name string
	_ = json.Unmarshal(f.args[0], &name)
	return name
}

// next reads and decodes the next Socket.IO packet, with its binary
// attachments; pings are answered and skipped.
func (c *rawClient) next() frame {
	c.t.Helper()
	var m string
	for {
		m = c.readRaw()
		if m != "2" {
			break
		}
		require.NoError(c.t, c.conn.WriteMessage(websocket.TextMessage, []byte("3")))
	}
	require.True(c.t, strings.HasPrefix(m, "4") && len(m) >= 2, "not a Socket.IO frame: %.100q", m)
	f := frame{typ: m[1:2], id: -1}
	rest := m[2:]
	nbin := 0
	if f.typ == "5" || f.typ == "6" {
		n, after, ok := strings.Cut(rest, "-")
		require.True(c.t, ok, m)
		var err error
		nbin, err = strconv.Atoi(n)
		require.NoError(c.t, err)
		rest = after
		f.typ = map[string]string{"5": "2", "6": "3"}[f.typ]
	}
	i := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	if i > 0 {
		f.id, _ = strconv.Atoi(rest[:i])
	}
	if rest = rest[i:]; rest != "" {
		if f.typ == "0" { // CONNECT: an object, not arguments
			rest = "[" + rest + "]"
		}
		require.NoError(c.t, json.Unmarshal([]byte(rest), &f.args), "%.200s", m)
	}
	// With connection state recovery, an event without ack id that the
	// server keeps ends with its offset, a string. No event of the chat
	// has a string as its own last argument: a trailing string after the
	// event's one argument is the offset.
	if f.typ == "2" && f.id < 0 && len(f.args) == 3 {
		require.NoError(c.t, json.Unmarshal(f.args[2], &f.offset), "offset of %.200s", m)
		require.NotEmpty(c.t, f.offset, m)
		f.args = f.args[:2]
	}
	for range nbin {
		b := c.readRaw()
		require.True(c.t, strings.HasPrefix(b, "bin:"), "want an attachment, got %.100q", b)
		f.bins = append(f.bins, []byte(b[4:]))
	}
	return f
}
