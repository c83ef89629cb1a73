package engineio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPolling_MessagesBothWays(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	c := ts.client(t)
	sid := c.handshake()
	s := ts.rec.session(t)

	res := c.post(pollQuery(sid), "4hello\x1ebAQIDBA==\x1e4wörld")
	require.Equal(t, http.StatusOK, res.status)
	assert.Equal(t, "ok", res.body)
	assert.Equal(t, "text/html", res.header.Get("Content-Type"))
	assert.Equal(t, "no-store", res.header.Get("Cache-Control"))
	assert.Equal(t, message{"hello", false}, ts.rec.message(t))
	assert.Equal(t, message{"\x01\x02\x03\x04", true}, ts.rec.message(t))
	assert.Equal(t, message{"wörld", false}, ts.rec.message(t))

	require.NoError(t, s.Send([]byte("one")))
	require.NoError(t, s.SendBinary([]byte{1, 2, 3, 4}))
	require.NoError(t, s.Send([]byte("two")))
	res = c.get(pollQuery(sid))
	require.Equal(t, http.StatusOK, res.status)
	assert.Equal(t, "4one\x1ebAQIDBA==\x1e4two", res.body, "everything queued, one payload")
}

func TestPolling_GETWaitsForData(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	c := ts.client(t)
	sid := c.handshake()
	s := ts.rec.session(t)
	got := make(chan response, 1)
	go func() { got <- c.get(pollQuery(sid)) }()
	waitPollPending(t, s)
	require.NoError(t, s.Send([]byte("late")))
	res := recv(t, got, "GET")
	assert.Equal(t, "4late", res.body)
}

// waitPollPending waits until s holds a GET.
func waitPollPending(t testing.TB, s *Session) {
	t.Helper()
	waitSession(t, s, "polling GET", func(s *Session) bool { return s.pollActive })
}

// waitSession waits, within 5 s, until cond holds for s (called with s.mu
// held). The server has no signal for these states, so it polls.
func waitSession(t testing.TB, s *Session, what string, cond func(*Session) bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.mu.Lock()
		ok := cond(s)
		s.mu.Unlock()
		if ok {
			return
		}
		require.True(t, time.Now().Before(deadline), "%s never arrived", what)
		time.Sleep(time.Millisecond)
	}
}

// engine.io-protocol test-suite "closes the session upon duplicate poll
// requests"; RELIABILITY row 9.
func TestPolling_OverlappingGET_ClosesSession(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	c := ts.client(t)
	sid := c.handshake()
	s := ts.rec.session(t)
	first := make(chan response, 1)
	go func() { first <- c.get(pollQuery(sid)) }()
	waitPollPending(t, s)

	second := c.get(pollQuery(sid))
	assert.Equal(t, http.StatusBadRequest, second.status)
	assert.Equal(t, "1", recv(t, first, "first GET").body, "the pending GET gets the close packet")
	ev := ts.rec.closed(t)
	assert.Equal(t, ReasonTransportError, ev.reason)
	assert.ErrorIs(t, ev.err, errOverlapGET)

	third := c.get(pollQuery(sid))
	assert.Equal(t, http.StatusBadRequest, third.status)
	assert.Equal(t, `{"code":1,"message":"Session ID unknown"}`, third.body)
}

// Many rounds of two GETs racing under -race: exactly one is answered
// 200, the other 400, and the session is closed once.
func TestPolling_OverlapRace(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	c := ts.client(t)
	for range 200 {
		sid := c.handshake()
		ts.rec.session(t)
		var wg sync.WaitGroup
		statuses := make([]int, 2)
		for i := range 2 {
			wg.Go(func() { statuses[i] = c.get(pollQuery(sid)).status })
		}
		wg.Wait()
		assert.ElementsMatch(t, []int{200, 400}, statuses)
		assert.Equal(t, ReasonTransportError, ts.rec.closed(t).reason)
	}
}

func TestPolling_OverlapPOSTRace(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	c := ts.client(t)
	for range 100 {
		sid := c.handshake()
		ts.rec.session(t)
		// A body that keeps the first POST reading while the second comes.
		pr, pw := io.Pipe()
		firstDone := make(chan int, 1)
		go func() {
			req, _ := http.NewRequest("POST", c.url(pollQuery(sid)), pr)
			res, err := c.hc.Do(req)
			if err != nil {
				firstDone <- 0
				return
			}
			res.Body.Close()
			firstDone <- res.StatusCode
		}()
		_, err := pw.Write([]byte("4a"))
		require.NoError(t, err)
		waitPostActive(t, ts.rec, sid, ts)
		second := c.post(pollQuery(sid), "4b")
		assert.Equal(t, http.StatusBadRequest, second.status)
		pw.Close()
		<-firstDone
		assert.Equal(t, ReasonTransportError, ts.rec.closed(t).reason)
	}
}

func waitPostActive(t *testing.T, _ *recorder, sid string, ts *testServer) {
	t.Helper()
	s := ts.Session(sid)
	require.NotNil(t, s)
	waitSession(t, s, "polling POST", func(s *Session) bool { return s.postActive })
}

// A GET the client abandons closes the session ("poll connection closed
// prematurely").
func TestPolling_CancelledGET_ClosesSession(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	c := ts.client(t)
	sid := c.handshake()
	s := ts.rec.session(t)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", c.url(pollQuery(sid)), nil)
	done := make(chan error, 1)
	go func() {
		res, err := c.hc.Do(req)
		if err == nil {
			res.Body.Close()
		}
		done <- err
	}()
	waitPollPending(t, s)
	cancel()
	<-done
	ev := ts.rec.closed(t)
	assert.Equal(t, ReasonTransportError, ev.reason)
	assert.ErrorIs(t, ev.err, errPollClosed)
	assert.Zero(t, ts.ClientsCount())
}

// RELIABILITY row 1: bodies over MaxHTTPBufferSize get 413 and close the
// session, with or without Content-Length; exactly the limit is accepted.
func TestPolling_BodyLimit(t *testing.T) {
	const limit = 1000
	for _, tc := range []struct {
		name    string
		size    int
		chunked bool
		status  int
	}{
		{"exact limit", limit, false, 200},
		{"exact limit chunked", limit, true, 200},
		{"over limit", limit + 1, false, 413},
		{"over limit chunked", limit + 1, true, 413},
		{"far over limit chunked", 50 * limit, true, 413},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t, &Options{MaxHTTPBufferSize: limit}, nil)
			c := ts.client(t)
			sid := c.handshake()
			ts.rec.session(t)
			body := "4" + strings.Repeat("x", tc.size-1)
			var rd io.Reader = strings.NewReader(body)
			if tc.chunked {
				rd = io.MultiReader(rd) // hides the length: chunked encoding
			}
			req, _ := http.NewRequest("POST", c.url(pollQuery(sid)), rd)
			res, err := c.hc.Do(req)
			require.NoError(t, err)
			res.Body.Close()
			assert.Equal(t, tc.status, res.StatusCode)
			if tc.status == 200 {
				assert.Len(t, ts.rec.message(t).data, tc.size-1)
				assert.Equal(t, 1, ts.ClientsCount())
				return
			}
			ev := ts.rec.closed(t)
			assert.Equal(t, ReasonTransportError, ev.reason)
			assert.ErrorIs(t, ev.err, ErrPayloadTooLarge)
		})
	}
}

// RELIABILITY row 10: a binary content type on protocol v4 is answered at
// once and closes the session.
func TestPolling_BinaryContentTypeRejected(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	c := ts.client(t)
	sid := c.handshake()
	ts.rec.session(t)
	res := c.do("POST", pollQuery(sid), "\x04\x01\x02", map[string]string{"Content-Type": "application/octet-stream"})
	assert.Equal(t, http.StatusBadRequest, res.status)
	ev := ts.rec.closed(t)
	assert.Equal(t, ReasonTransportError, ev.reason)
	assert.ErrorIs(t, ev.err, errInvalidContent)
}

// RELIABILITY row 6, polling side: valid packets before the bad one are
// handled, then the session closes with "parse error".
func TestPolling_ParseError(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		before     []string
	}{
		{"garbage", "abc", nil},
		{"unknown type", "9", nil},
		{"empty packet between", "4a\x1e\x1e4b", []string{"a"}},
		{"bad base64", "4a\x1eb!!!!", []string{"a"}},
		{"trailing separator", "4a\x1e", []string{"a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t, nil, nil)
			c := ts.client(t)
			sid := c.handshake()
			ts.rec.session(t)
			res := c.post(pollQuery(sid), tc.body)
			assert.Equal(t, http.StatusBadRequest, res.status)
			for _, want := range tc.before {
				assert.Equal(t, want, ts.rec.message(t).data)
			}
			assert.Equal(t, ReasonParseError, ts.rec.closed(t).reason)
			assert.Equal(t, http.StatusBadRequest, c.get(pollQuery(sid)).status)
		})
	}
}

// engine.io-protocol test-suite "forcefully closes the session": a close
// packet from the client releases the pending GET with a noop.
func TestPolling_ClientClose(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	c := ts.client(t)
	sid := c.handshake()
	s := ts.rec.session(t)
	pending := make(chan response, 1)
	go func() { pending <- c.get(pollQuery(sid)) }()
	waitPollPending(t, s)
	res := c.post(pollQuery(sid), "1")
	assert.Equal(t, "ok", res.body)
	assert.Equal(t, "6", recv(t, pending, "GET").body)
	ev := ts.rec.closed(t)
	assert.Equal(t, ReasonTransportClose, ev.reason)
	assert.NoError(t, ev.err)
	assert.Equal(t, http.StatusBadRequest, c.get(pollQuery(sid)).status)
}

// RELIABILITY row 11: a ping from the client violates protocol v4.
func TestPolling_ClientPingClosesSession(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	c := ts.client(t)
	sid := c.handshake()
	ts.rec.session(t)
	c.post(pollQuery(sid), "2")
	ev := ts.rec.closed(t)
	assert.Equal(t, ReasonTransportError, ev.reason)
	assert.ErrorIs(t, ev.err, errInvalidHeartbeat)
}

// Server-side Close delivers what is queued, then the close packet in the
// next answer: Node never bundles them (socket.io-client acts on a close
// packet at once but on messages a tick later, so bundling reorders
// them; found by the socket.io-client conformance suite).
func TestPolling_ServerClose(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	c := ts.client(t)
	sid := c.handshake()
	s := ts.rec.session(t)
	require.NoError(t, s.Send([]byte("bye")))
	require.NoError(t, s.Close())
	assert.ErrorIs(t, s.Send([]byte("too late")), ErrSessionClosed)
	assert.Equal(t, "4bye", c.get(pollQuery(sid)).body)
	assert.Empty(t, ts.rec.closes, "closed only once the close packet is out")
	assert.Equal(t, "1", c.get(pollQuery(sid)).body)
	ev := ts.rec.closed(t)
	assert.Equal(t, ReasonForcedClose, ev.reason)
	<-s.Done()
	assert.Error(t, s.Context().Err())
	require.NoError(t, s.Close(), "idempotent")
}

func TestPolling_ServerCloseWithPendingGET(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	c := ts.client(t)
	sid := c.handshake()
	s := ts.rec.session(t)
	pending := make(chan response, 1)
	go func() { pending <- c.get(pollQuery(sid)) }()
	waitPollPending(t, s)
	require.NoError(t, s.Close())
	assert.Equal(t, "1", recv(t, pending, "GET").body)
	assert.Equal(t, ReasonForcedClose, ts.rec.closed(t).reason)
}

func TestPolling_OtherMethod(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	c := ts.client(t)
	sid := c.handshake()
	assert.Equal(t, http.StatusInternalServerError, c.do("PUT", pollQuery(sid), "", nil).status)
}

// Messages sent from the connection callback go out on the first GET
// after the handshake, never inside the handshake response.
func TestPolling_SendInConnectionCallback(t *testing.T) {
	ts := newTestServer(t, nil, func(s *Session) { require.NoError(t, s.Send([]byte("welcome"))) })
	c := ts.client(t)
	res := c.get("EIO=4&transport=polling")
	require.False(t, bytes.Contains([]byte(res.body), []byte("welcome")), res.body)
	assert.Equal(t, "4welcome", c.get(pollQuery(sidOf(t, res.body))).body)
}

func TestPolling_OnPacketAndDrain(t *testing.T) {
	packets := make(chan string, 16)
	created := make(chan string, 16)
	drains := make(chan struct{}, 16)
	ts := newTestServer(t, nil, func(s *Session) {
		s.OnPacket(func(p Packet) { packets <- p.Type.String() + ":" + string(p.Data) })
		s.OnPacketCreate(func(p Packet) { created <- p.Type.String() + ":" + string(p.Data) })
		s.OnDrain(func() { drains <- struct{}{} })
	})
	c := ts.client(t)
	sid := c.handshake()
	s := ts.rec.session(t)
	c.post(pollQuery(sid), "4x\x1e3")
	assert.Equal(t, "message:x", recv(t, packets, "packet"))
	assert.Equal(t, "pong:", recv(t, packets, "packet"))
	require.NoError(t, s.Send([]byte("y")))
	assert.Equal(t, "message:y", recv(t, created, "packetCreate"))
	c.get(pollQuery(sid))
	recv(t, drains, "drain")
	assert.Panics(t, func() { s.OnMessage(nil) }, "handlers are set in the connection callback only")
}

// The close callback never runs while a message callback is still
// running, even when the close comes from another goroutine (here the
// ping timer), and it runs once the message callback returns.
func TestSession_CloseSerialisedWithMessages(t *testing.T) {
	inMessage := make(chan struct{})
	release := make(chan struct{})
	var order []string
	var mu sync.Mutex
	note := func(s string) { mu.Lock(); order = append(order, s); mu.Unlock() }
	// The message must arrive well before the ping timeout ends the
	// session (1.5 s after the handshake).
	ts := newTestServer(t, &Options{PingInterval: time.Second, PingTimeout: 500 * time.Millisecond}, func(s *Session) {
		s.OnMessage(func([]byte, bool) {
			note("message start")
			close(inMessage)
			<-release
			note("message end")
		})
		s.OnClose(func(Reason, error) { note("close") })
	})
	c := ts.client(t)
	sid := c.handshake()
	s := ts.rec.session(t)
	posted := make(chan error, 1)
	go func() {
		res, err := c.hc.Post(c.url(pollQuery(sid)), "text/plain", strings.NewReader("4block"))
		if err == nil {
			res.Body.Close()
		}
		posted <- err
	}()
	<-inMessage
	// The session times out (no pong) while the callback blocks.
	require.Eventually(t, func() bool { return ts.ClientsCount() == 0 }, 5*time.Second, time.Millisecond)
	select {
	case <-s.Done():
		t.Fatal("close callback ran while a message callback was running")
	default:
	}
	close(release)
	<-s.Done()
	require.NoError(t, recv(t, posted, "POST answer"))
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"message start", "message end", "close"}, order)
}

// A callback that causes its own session's close (a send that overflows
// the queue) does not deadlock; the close callback follows it.
func TestSession_CloseFromInsideCallback(t *testing.T) {
	ts := newTestServer(t, &Options{MaxBufferedBytes: 1000}, func(s *Session) {
		s.OnMessage(func([]byte, bool) {
			for range 100 {
				if errors.Is(s.Send(make([]byte, 100)), ErrSlowConsumer) {
					return
				}
			}
			t.Error("queue never filled")
		})
	})
	c := ts.client(t)
	sid := c.handshake()
	ts.rec.session(t)
	c.post(pollQuery(sid), "4go")
	assert.Equal(t, ReasonSlowConsumer, ts.rec.closed(t).reason)
}

// A client that polls again the moment it has an answer, while the server
// sends without pause, is never taken for an overlapping poller, and gets
// every message once, in order.
func TestPolling_BackToBackPolls(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	c := ts.client(t)
	sid := c.handshake()
	s := ts.rec.session(t)
	const n = 3000
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		for i := range n {
			if s.Send(fmt.Appendf(nil, "%d", i)) != nil {
				return
			}
		}
	}()
	next := 0
	for polls := 0; next < n && polls < n; polls++ {
		res := c.get(pollQuery(sid))
		require.Equal(t, http.StatusOK, res.status, res.body)
		for p := range strings.SplitSeq(res.body, "\x1e") {
			if p == "2" {
				continue
			}
			require.Equal(t, fmt.Sprintf("4%d", next), p)
			next++
		}
	}
	<-sent
	assert.Equal(t, n, next)
	assert.Empty(t, ts.rec.closes)
}
