package socketio

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/gosio/engineio"
)

func TestHandshakeFields(t *testing.T) {
	srv, url := newTestServer(t, nil)
	sockets := make(chan *Socket, 1)
	srv.OnConnection(func(ctx context.Context, s *Socket) error { sockets <- s; return nil })
	hdr := http.Header{"X-Custom": {"yes"}}
	conn, _, err := websocket.DefaultDialer.Dial(url+"?EIO=4&transport=websocket&room=blue", hdr)
	require.NoError(t, err)
	c := &rawClient{t: t, conn: conn}
	t.Cleanup(func() { _ = conn.Close() })
	c.readRaw()
	before := time.Now().UnixMilli()
	c.send(`0{"token":"t1"}`)
	c.read()
	s := recv(t, sockets)
	h := s.Handshake()
	assert.Equal(t, "yes", http.Header(h.Headers).Get("X-Custom"))
	assert.Equal(t, []string{"blue"}, h.Query["room"])
	assert.JSONEq(t, `{"token":"t1"}`, string(h.Auth))
	assert.Equal(t, "127.0.0.1", h.Address)
	assert.False(t, h.Secure)
	assert.False(t, h.XDomain, "no Origin header")
	assert.Contains(t, h.URL, "/socket.io/?EIO=4&transport=websocket&room=blue")
	assert.InDelta(t, before, h.Issued, 5000)
	_, err = time.Parse(time.RFC1123, h.Time)
	assert.NoError(t, err)
}

func TestSendAndMessageEvent(t *testing.T) {
	srv, url := newTestServer(t, nil)
	got := make(chan string, 1)
	srv.On("message", func(ctx context.Context, ev *Event) error {
		var s string
		_ = ev.Scan(&s)
		got <- s
		return ev.Socket().Send("back", 1)
	})
	c := dial(t, url)
	c.connect("/")
	c.send(`2["message","hi"]`)
	assert.Equal(t, "hi", recv(t, got))
	assert.Equal(t, `2["message","back",1]`, c.read())
}

// Compress(false) reaches the Engine.IO layer: the polling answer is not
// gzipped even when large and accepted.
func TestCompressFalse(t *testing.T) {
	srv, _ := newTestServer(t, nil)
	big := make([]byte, 4096)
	for i := range big {
		big[i] = 'a'
	}
	sid := fuzzHandshake(t, srv)
	postFrames(t, srv, sid, "0")
	poll(t, srv, sid, "gzip") // CONNECT answer
	s := srv.Of("/").Sockets()[0]
	require.NoError(t, s.Compress(false).Emit("big", string(big)))
	res := poll(t, srv, sid, "gzip")
	assert.Empty(t, res.Header().Get("Content-Encoding"), "not compressed")
	require.NoError(t, s.Emit("big", string(big)))
	res = poll(t, srv, sid, "gzip")
	assert.Equal(t, "gzip", res.Header().Get("Content-Encoding"), "compressed by default")
}

func TestCatchAllRemoval(t *testing.T) {
	srv, url := newTestServer(t, nil)
	out := make(chan string, 8)
	in := make(chan string, 8)
	ready := make(chan *Socket, 1)
	synced := make(chan struct{}, 1)
	srv.OnConnection(func(ctx context.Context, s *Socket) error {
		s.OnAnyOutgoing(func(event string, _ []any) { out <- "second:" + event })
		s.PrependAnyOutgoing(func(event string, _ []any) { out <- "first:" + event })
		s.OnAny(func(ev *Event) { in <- ev.Name() })
		s.On("sync", func(context.Context, *Event) error { synced <- struct{}{}; return nil })
		ready <- s
		return nil
	})
	c := dial(t, url)
	c.connect("/")
	s := recv(t, ready)
	require.NoError(t, s.Emit("a"))
	assert.Equal(t, "first:a", recv(t, out))
	assert.Equal(t, "second:a", recv(t, out))
	s.OffAnyOutgoing()
	s.OffAny()
	require.NoError(t, s.Emit("b"))
	c.send(`2["x"]`)
	c.send(`21["ping"]`) // no handler: nothing answers, but the socket stays up
	c.send(`2["sync"]`)  // events run in order: x and ping were handled
	recv(t, synced)
	require.NoError(t, s.Emit("marker"))
	assert.Equal(t, `2["a"]`, c.read())
	assert.Equal(t, `2["b"]`, c.read())
	assert.Equal(t, `2["marker"]`, c.read())
	assert.Empty(t, out)
	assert.Empty(t, in)
}

func TestDisconnectReasons_FromEngine(t *testing.T) {
	srv, url := newTestServer(t, &Options{Engine: engineio.Options{PingInterval: 100 * time.Millisecond, PingTimeout: 300 * time.Millisecond}})
	reasons := make(chan Reason, 2)
	srv.OnDisconnect(func(s *Socket, r Reason) { reasons <- r })
	c := dial(t, url)
	c.send("0")
	_, _ = c.tryReadRaw() // CONNECT answer; then never answer pings
	assert.Equal(t, ReasonPingTimeout, recv(t, reasons))

	c2 := dial(t, url)
	c2.connect("/")
	c2.send("0") // CONNECT twice: invalid state, Node's client.close()
	assert.Equal(t, ReasonForcedServerClose, recv(t, reasons))
}
