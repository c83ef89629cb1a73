package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/gosio/examples/chat/chatapp"
	"github.com/gosio/gosio/examples/chat/chatapp/chattest"
	"github.com/gosio/gosio/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// dialer dials the chat's test clients: recovery is on.
var dialer = chattest.Dialer{Recovery: true, ReadTimeout: 5 * time.Second}

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
	base := newTestServer(t, t.TempDir())
	alice := dialer.Dial(t, base)
	bob := dialer.Dial(t, base)

	// Join: the ack lists the members, the others hear of it.
	assert.Equal(t, `{"ok":true,"members":["alice"]}`, alice.Call("join", `{"nick":" alice ","room":"go"}`))
	assert.Equal(t, `{"ok":true,"members":["alice","bob"]}`, bob.Call("join", `{"nick":"bob","room":"go"}`))
	alice.Expect("user joined", `{"nick":"bob"}`)

	// Chat: everyone in the room, the sender included, gets it.
	id := alice.Emit("chat", `{"text":"  hello, go  "}`)
	f := alice.Next()
	require.Equal(t, "chat", f.Event(), f)
	require.Len(t, f.Args, 2, f)
	assert.JSONEq(t, `{"nick":"alice","text":"hello, go"}`, withoutAt(t, f.Args[1]))
	assert.NotEmpty(t, f.Offset, f)
	alice.ExpectAck(id, `{"ok":true}`)
	f = bob.Next()
	require.Equal(t, "chat", f.Event(), f)
	require.Len(t, f.Args, 2, f)
	assert.JSONEq(t, `{"nick":"alice","text":"hello, go"}`, withoutAt(t, f.Args[1]))
	assert.NotEmpty(t, f.Offset, f)

	// Typing: the others only. It is volatile, dropped when alice's
	// connection is busy writing, so bob follows it with a chat until
	// alice sees it; bob never gets his own.
	sawTyping := false
	for range 50 {
		bob.EmitNoAck("typing", `{"typing":true}`)
		id := bob.Emit("chat", `{"text":"bob here"}`)
		f := bob.Next()
		require.Equal(t, "chat", f.Event(), f)
		bob.ExpectAck(id, `{"ok":true}`)
		if f = alice.Next(); f.Event() == "typing" {
			require.Len(t, f.Args, 2, f)
			assert.JSONEq(t, `{"nick":"bob","typing":true}`, string(f.Args[1]))
			assert.Empty(t, f.Offset, "a volatile event is not kept for recovery: no offset")
			sawTyping = true
			f = alice.Next()
		}
		require.Equal(t, "chat", f.Event(), f)
		if sawTyping {
			break
		}
	}
	require.True(t, sawTyping, "typing never reached alice")

	// Image: a binary attachment, intact, to the others; the sender gets
	// the ack and not her image back.
	img := bytes.Repeat([]byte{0x89, 'P', 'N', 'G', 0, 0xff, '\n', 0x1e}, 64<<10) // 512 KiB
	id = alice.EmitBinary("image", `{"name":"cat.png","mime":"image/png","data":{"_placeholder":true,"num":0}}`, img)
	alice.ExpectAck(id, `{"ok":true}`)
	f = bob.Next()
	require.Equal(t, "image", f.Event(), f)
	require.Len(t, f.Args, 2, f)
	assert.NotEmpty(t, f.Offset, "a binary event has its offset too: %v", f)
	var got struct {
		Nick, Name, Mime string
		At               int64
		Data             struct {
			Placeholder bool `json:"_placeholder"`
		}
	}
	require.NoError(t, json.Unmarshal(f.Args[1], &got))
	assert.True(t, got.Data.Placeholder)
	assert.Equal(t, "alice", got.Nick)
	assert.Equal(t, "cat.png", got.Name)
	assert.Equal(t, "image/png", got.Mime)
	assert.NotZero(t, got.At)
	require.Len(t, f.Bins, 1)
	assert.True(t, bytes.Equal(img, f.Bins[0]), "image altered")

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
			ack = alice.AckOf(alice.EmitBinary(c.event, c.arg, []byte(c.bin)))
		} else {
			ack = alice.Call(c.event, c.arg)
		}
		var res chatapp.Result
		require.NoError(t, json.Unmarshal([]byte(ack), &res), ack)
		assert.False(t, res.OK, "%s %.80s: %s", c.event, c.arg, ack)
		assert.Contains(t, res.Error, c.want, "%s %.80s", c.event, c.arg)
	}
	// Before joining a room, only join is possible.
	carol := dialer.Dial(t, base)
	assert.Equal(t, `{"ok":false,"error":"join a room first"}`, carol.Call("chat", `{"text":"hi"}`))
	// Alice is still alice in "go", and bob heard nothing of it all.
	id = alice.Emit("chat", `{"text":"still here"}`)
	alice.Next()
	alice.ExpectAck(id, `{"ok":true}`)
	f = bob.Next()
	require.Equal(t, "chat", f.Event(), f)
	assert.JSONEq(t, `{"nick":"alice","text":"still here"}`, withoutAt(t, f.Args[1]))

	// Moving rooms: left in the old one, joined in the new one.
	assert.Equal(t, `{"ok":true,"members":["bob"]}`, bob.Call("join", `{"nick":"bob","room":"rust"}`))
	alice.Expect("user left", `{"nick":"bob"}`)
	assert.Equal(t, `{"ok":true,"members":["alice","carol"]}`, carol.Call("join", `{"nick":"carol","room":"go"}`))
	alice.Expect("user joined", `{"nick":"carol"}`)
	assert.Equal(t, `{"ok":true,"members":["alice","bob"]}`, alice.Call("join", `{"nick":"alice","room":"rust"}`))
	bob.Expect("user joined", `{"nick":"alice"}`)
	carol.Expect("user left", `{"nick":"alice"}`)
	// Joining the same room again changes nothing.
	assert.Equal(t, `{"ok":true,"members":["alice","bob"]}`, alice.Call("join", `{"nick":"alice","room":"rust"}`))

	// Disconnecting: the room hears of it.
	require.NoError(t, bob.Close())
	alice.Expect("user left", `{"nick":"bob"}`)
	assert.Equal(t, `{"ok":true,"members":["alice"]}`, alice.Call("join", `{"nick":"alice","room":"rust"}`))
}

// A client that lost its connection comes back with its socket id, room
// and nickname, and the messages it missed, without joining again; the
// others see it leave and come back.
func TestRecovery(t *testing.T) {
	base := newTestServer(t, t.TempDir())
	alice := dialer.Dial(t, base)
	bob := dialer.Dial(t, base)
	alice.Call("join", `{"nick":"alice","room":"go"}`)
	bob.Call("join", `{"nick":"bob","room":"go"}`)
	alice.Expect("user joined", `{"nick":"bob"}`)
	alice.EmitNoAck("chat", `{"text":"before"}`)
	alice.Next()
	f := bob.Next()
	require.Equal(t, "chat", f.Event(), f)
	offset := f.Offset // bob's last offset

	require.NoError(t, bob.Close()) // transport close: recoverable
	alice.Expect("user left", `{"nick":"bob"}`)
	for _, text := range []string{"m1", "m2"} {
		alice.EmitNoAck("chat", `{"text":"`+text+`"}`)
		alice.Next()
	}

	auth, err := json.Marshal(map[string]string{"pid": bob.PID, "offset": offset})
	require.NoError(t, err)
	bob2, f := dialer.DialAuth(t, base, string(auth))
	// The missed messages, in order, before the CONNECT answer; not the
	// "user left" about himself.
	for _, text := range []string{"m1", "m2"} {
		require.Equal(t, "chat", f.Event(), f)
		require.Len(t, f.Args, 2, f)
		assert.JSONEq(t, `{"nick":"alice","text":"`+text+`"}`, withoutAt(t, f.Args[1]))
		f = bob2.Next()
	}
	bob2.SetSession(f)
	assert.Equal(t, bob.SID, bob2.SID, "same socket id")
	alice.Expect("user joined", `{"nick":"bob"}`)

	// Still bob in "go", without joining again.
	id := bob2.Emit("chat", `{"text":"back"}`)
	f = bob2.Next()
	require.Equal(t, "chat", f.Event(), f)
	assert.JSONEq(t, `{"nick":"bob","text":"back"}`, withoutAt(t, f.Args[1]))
	bob2.ExpectAck(id, `{"ok":true}`)
	f = alice.Next()
	require.Equal(t, "chat", f.Event(), f)
	assert.JSONEq(t, `{"nick":"bob","text":"back"}`, withoutAt(t, f.Args[1]))
	assert.Equal(t, `{"ok":true,"members":["alice","bob"]}`, alice.Call("join", `{"nick":"alice","room":"go"}`))

	// A session is recovered once: the same proof again starts afresh.
	bob3, f := dialer.DialAuth(t, base, string(auth))
	bob3.SetSession(f)
	assert.NotEqual(t, bob.SID, bob3.SID)
	assert.Equal(t, `{"ok":false,"error":"join a room first"}`, bob3.Call("chat", `{"text":"hi"}`))
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
