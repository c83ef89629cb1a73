package engineio

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// shutdownFixture holds one session of each kind: a polling session with a
// GET pending, an idle polling session (no GET), and a WebSocket session.
type shutdownFixture struct {
	ts              *testServer
	pendingC        *client
	idleC           *client
	pendingSID      string
	idleSID         string
	pendingGET      chan response
	ws              *wsClient
	pending, idle   *Session
	wsSess          *Session
	sessionsByID    map[string]*Session
	closesBySession map[string]closeEvent
}

func newShutdownFixture(t *testing.T, opts *Options) *shutdownFixture {
	t.Helper()
	f := &shutdownFixture{closesBySession: map[string]closeEvent{}, sessionsByID: map[string]*Session{}}
	f.ts = newTestServer(t, opts, nil)
	f.pendingC, f.idleC = f.ts.client(t), f.ts.client(t)

	f.pendingSID = f.pendingC.handshake()
	f.pending = f.ts.rec.session(t)
	f.idleSID = f.idleC.handshake()
	f.idle = f.ts.rec.session(t)
	f.ws = f.ts.mustDialWS(t, "EIO=4&transport=websocket")
	parseOpen(t, f.ws.mustRead())
	f.wsSess = f.ts.rec.session(t)
	for _, s := range []*Session{f.pending, f.idle, f.wsSess} {
		f.sessionsByID[s.ID()] = s
	}

	f.pendingGET = make(chan response, 1)
	go func() { f.pendingGET <- f.pendingC.get(pollQuery(f.pendingSID)) }()
	waitPollPending(t, f.pending)
	require.Equal(t, 3, f.ts.ClientsCount())
	return f
}

// readUntilError reads c in the background until the connection ends and
// reports the error that ended it.
func readUntilError(c *wsClient) <-chan error {
	ch := make(chan error, 1)
	go func() {
		for range 10_000 {
			if _, err := c.read(); err != nil {
				ch <- err
				return
			}
		}
		ch <- errors.New("connection never ended")
	}()
	return ch
}

// expectCloses collects the n close events and checks each session reported
// exactly once with reason.
func (f *shutdownFixture) expectCloses(t *testing.T, n int, reason Reason) {
	t.Helper()
	for range n {
		ev := f.ts.rec.closed(t)
		assert.Equal(t, reason, ev.reason)
	}
	select {
	case ev := <-f.ts.rec.closes:
		t.Errorf("extra close event %v", ev)
	default:
	}
	for id, s := range f.sessionsByID {
		select {
		case <-s.Done():
		default:
			t.Errorf("session %s not done", id)
		}
	}
}

// RELIABILITY row 14: Shutdown closes WebSocket and polling sessions with
// "server shutting down": the pending GET gets the close packet, the
// WebSocket a close frame; the idle polling session, whose client never
// comes back, is closed by the grace timer (PingInterval+PingTimeout).
func TestShutdown_ClosesEverySession(t *testing.T) {
	// Timers far from the test's own pace, so that no ping or ping
	// timeout happens before Shutdown even on a loaded machine; the grace
	// timer of the idle session is then PingInterval+PingTimeout = 3 s.
	f := newShutdownFixture(t, &Options{PingInterval: 2 * time.Second, PingTimeout: time.Second})
	require.NoError(t, f.wsSess.Send([]byte("last words")))
	assert.Equal(t, "4last words", f.ws.readSkippingPings())

	// The WebSocket client reads, as real ones do, so it answers the
	// server's close frame.
	wsEnd := readUntilError(f.ws)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	err := f.ts.Shutdown(ctx)
	elapsed := time.Since(start)
	require.NoError(t, err, "returned before the deadline (took %v)", elapsed)

	res := recv(t, f.pendingGET, "pending GET")
	assert.Equal(t, http.StatusOK, res.status)
	assert.Equal(t, "1", res.body, "the close packet")

	werr := recv(t, wsEnd, "end of the WebSocket")
	var ce *websocket.CloseError
	if assert.True(t, errors.As(werr, &ce), "a close frame, not a cut: %v", werr) {
		assert.Equal(t, websocket.CloseNoStatusReceived, ce.Code, "Node's ws.close() sends no status")
	}

	f.expectCloses(t, 3, ReasonServerShuttingDown)
	assert.Zero(t, f.ts.ClientsCount())

	// Closed for good.
	assert.ErrorIs(t, f.ts.Shutdown(context.Background()), ErrServerClosed)
	assert.ErrorIs(t, f.ts.Close(), ErrServerClosed)
	res = f.idleC.get("EIO=4&transport=polling")
	assert.Equal(t, http.StatusServiceUnavailable, res.status)
	res = f.idleC.get(pollQuery(f.idleSID))
	assert.Equal(t, http.StatusServiceUnavailable, res.status)
	_, wres, derr := f.ts.dialWS(t, "EIO=4&transport=websocket", nil)
	require.Error(t, derr)
	require.NotNil(t, wres)
	wres.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, wres.StatusCode)
}

// A polling client that is between two polls when Shutdown starts comes
// back for its last packets and the close packet, as the Shutdown doc
// promises ("queued packets are delivered, then the close packet") and
// ExampleServer_Shutdown says ("A polling client must come back for its
// close packet"); Shutdown then returns at once, long before the grace
// timer.
func TestShutdown_IdlePollingClientCollectsClosePacket(t *testing.T) {
	f := newShutdownFixture(t, nil) // grace timer 45 s: only the client can end it
	require.NoError(t, f.idle.Send([]byte("bye")))
	wsEnd := readUntilError(f.ws)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- f.ts.Shutdown(ctx) }()

	// The pending GET is answered once Shutdown has started.
	res := recv(t, f.pendingGET, "pending GET")
	assert.Equal(t, "1", res.body)

	// The idle client polls again: its queued packet, then (next poll,
	// as in Node) the close packet.
	res = f.idleC.get(pollQuery(f.idleSID))
	assert.Equal(t, http.StatusOK, res.status)
	assert.Equal(t, "4bye", res.body, "queued packet first")
	res = f.idleC.get(pollQuery(f.idleSID))
	assert.Equal(t, http.StatusOK, res.status)
	assert.Equal(t, "1", res.body, "then the close packet, on its own")

	err := recv(t, done, "Shutdown")
	assert.NoError(t, err, "every client collected its close: no need to wait for ctx")
	assert.Zero(t, f.ts.ClientsCount())
	recv(t, wsEnd, "end of the WebSocket")
}

// A WebSocket client that does not answer the close frame (a frozen app,
// a peer gone without a FIN) must not hold Shutdown past its ctx: at the
// deadline the remaining connections are cut and ctx's error returned
// (Shutdown doc).
func TestShutdown_DeadlineCutsUnresponsiveWebSocket(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	ws := ts.mustDialWS(t, "EIO=4&transport=websocket")
	parseOpen(t, ws.mustRead())
	ts.rec.session(t)
	// The client reads nothing from now on.

	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := ts.Shutdown(ctx)
	elapsed := time.Since(start)
	// Without the cut, Shutdown waits the whole closing-handshake grace.
	assert.Less(t, elapsed, wsCloseGrace, "Shutdown outlived its ctx")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, ReasonServerShuttingDown, ts.rec.closed(t).reason)
	assert.Zero(t, ts.ClientsCount())
}

// Shutdown with a polling client that never polls again returns when ctx
// expires, with ctx's error, and the session is closed all the same.
func TestShutdown_DeadlineExceeded(t *testing.T) {
	ts := newTestServer(t, nil, nil) // default grace timer: 45 s
	c := ts.client(t)
	c.handshake()
	s := ts.rec.session(t)

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := ts.Shutdown(ctx)
	elapsed := time.Since(start)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.GreaterOrEqual(t, elapsed, 300*time.Millisecond)
	assert.Less(t, elapsed, defaultPingInterval+defaultPingTimeout, "waited for the grace timer")

	ev := ts.rec.closed(t)
	assert.Equal(t, ReasonServerShuttingDown, ev.reason)
	assert.ErrorIs(t, ev.err, context.DeadlineExceeded)
	assert.Zero(t, ts.ClientsCount())
	select {
	case <-s.Done():
	default:
		t.Error("session not done when Shutdown returned")
	}
	assert.ErrorIs(t, s.Send([]byte("x")), ErrSessionClosed)
	assert.ErrorIs(t, ts.Shutdown(context.Background()), ErrServerClosed)
}

// Close is immediate: no grace period, same reason; queued packets are
// dropped.
func TestShutdown_CloseIsImmediate(t *testing.T) {
	f := newShutdownFixture(t, nil) // default timers: any wait would show
	require.NoError(t, f.idle.Send([]byte("dropped")))

	start := time.Now()
	require.NoError(t, f.ts.Close())
	assert.Less(t, time.Since(start), defaultPingInterval+defaultPingTimeout, "waited for the grace timer")

	res := recv(t, f.pendingGET, "pending GET")
	assert.Equal(t, http.StatusOK, res.status)
	assert.Equal(t, "1", res.body)
	_ = f.ws.expectClosed()

	f.expectCloses(t, 3, ReasonServerShuttingDown)
	assert.Zero(t, f.ts.ClientsCount())
	assert.ErrorIs(t, f.idle.Send([]byte("x")), ErrSessionClosed)

	assert.ErrorIs(t, f.ts.Close(), ErrServerClosed)
	assert.ErrorIs(t, f.ts.Shutdown(context.Background()), ErrServerClosed)
	assert.Equal(t, http.StatusServiceUnavailable, f.idleC.get("EIO=4&transport=polling").status)
}

// RELIABILITY row 14: a long poll outlives an http.Server WriteTimeout
// shorter than the ping interval.
func TestShutdown_LongPollBehindWriteTimeout(t *testing.T) {
	// A generous PingTimeout: a loaded machine must not turn a late pong
	// into a ping timeout; the WriteTimeout (100ms) stays far below the
	// PingInterval (300ms), which is what this test is about.
	ts := newTestServerHTTP(t, &Options{PingInterval: 300 * time.Millisecond, PingTimeout: 5 * time.Second}, nil, func(hts *httptest.Server) {
		hts.Config.WriteTimeout = 100 * time.Millisecond
	})
	c := ts.client(t)
	sid := c.handshake()
	ts.rec.session(t)

	for range 2 {
		start := time.Now()
		res := c.get(pollQuery(sid))
		elapsed := time.Since(start)
		assert.Equal(t, http.StatusOK, res.status)
		assert.Equal(t, "2", res.body, "the ping, after PingInterval")
		assert.GreaterOrEqual(t, elapsed, 200*time.Millisecond, "the GET was held past the WriteTimeout")
		assert.Equal(t, "ok", c.post(pollQuery(sid), "3").body)
	}
	select {
	case ev := <-ts.rec.closes:
		t.Fatalf("session closed: %v", ev)
	default:
	}
	assert.Equal(t, 1, ts.ClientsCount())
}
