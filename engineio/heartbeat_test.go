package engineio

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bubbleServer drives a Server through ServeHTTP inside a synctest
// bubble: no network, fake clock, exact timings.
type bubbleServer struct {
	t   *testing.T
	srv *Server
	rec *recorder
}

func newBubbleServer(t *testing.T, opts *Options) *bubbleServer {
	srv, err := New(opts)
	require.NoError(t, err)
	rec := newRecorder()
	srv.OnConnection(rec.attach)
	t.Cleanup(func() { _ = srv.Close() })
	return &bubbleServer{t: t, srv: srv, rec: rec}
}

func (b *bubbleServer) do(method, query, body string) *httptest.ResponseRecorder {
	var req *http.Request
	if body == "" {
		req = httptest.NewRequest(method, "/engine.io/?"+query, nil)
	} else {
		req = httptest.NewRequest(method, "/engine.io/?"+query, strings.NewReader(body))
	}
	w := httptest.NewRecorder()
	b.srv.ServeHTTP(w, req)
	return w
}

func (b *bubbleServer) handshake() string {
	w := b.do("GET", "EIO=4&transport=polling", "")
	require.Equal(b.t, 200, w.Code)
	return sidOf(b.t, w.Body.String())
}

// asyncGET starts a polling GET and returns a channel with its body.
func (b *bubbleServer) asyncGET(sid string) <-chan string {
	ch := make(chan string, 1)
	go func() { ch <- b.do("GET", pollQuery(sid), "").Body.String() }()
	return ch
}

func pending[T any](ch <-chan T) bool {
	select {
	case v := <-ch:
		panic("unexpectedly ready: " + any(v).(string))
	default:
		return true
	}
}

// The server pings exactly every PingInterval from the handshake on and
// closes a session PingTimeout after an unanswered ping (RELIABILITY row
// 11; engine.io-protocol suite "sends ping/pong packets", "closes the
// session upon ping timeout").
func TestHeartbeat_Polling(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubbleServer(t, &Options{PingInterval: 25 * time.Second, PingTimeout: 20 * time.Second})
		start := time.Now()
		sid := b.handshake()
		b.rec.session(t)

		get := b.asyncGET(sid)
		time.Sleep(25*time.Second - time.Millisecond)
		synctest.Wait()
		assert.True(t, pending(get), "no ping before PingInterval")
		time.Sleep(time.Millisecond)
		synctest.Wait()
		assert.Equal(t, "2", <-get)
		assert.Equal(t, 25*time.Second, time.Since(start))

		// A pong restarts the interval from the pong.
		time.Sleep(5 * time.Second)
		assert.Equal(t, "ok", b.do("POST", pollQuery(sid), "3").Body.String())
		pongAt := time.Now()
		get = b.asyncGET(sid)
		synctest.Wait()
		assert.True(t, pending(get))
		time.Sleep(25 * time.Second)
		synctest.Wait()
		assert.Equal(t, "2", <-get)
		assert.Equal(t, 25*time.Second, time.Since(pongAt))

		// No pong: closed exactly PingTimeout after the ping.
		pingAt := time.Now()
		time.Sleep(20*time.Second - time.Millisecond)
		synctest.Wait()
		assert.Empty(t, b.rec.closes)
		time.Sleep(time.Millisecond)
		synctest.Wait()
		ev := <-b.rec.closes
		assert.Equal(t, ReasonPingTimeout, ev.reason)
		assert.Equal(t, 20*time.Second, time.Since(pingAt))
		assert.Zero(t, b.srv.ClientsCount())
	})
}

// A client that vanishes between polls (no GET pending, ever) is reaped
// by the heartbeat exactly PingInterval + PingTimeout after the handshake.
func TestHeartbeat_AbandonedPollingSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubbleServer(t, &Options{PingInterval: 300 * time.Millisecond, PingTimeout: 200 * time.Millisecond})
		b.handshake()
		b.rec.session(t)
		time.Sleep(500*time.Millisecond - time.Nanosecond)
		synctest.Wait()
		assert.Equal(t, 1, b.srv.ClientsCount())
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		assert.Zero(t, b.srv.ClientsCount())
		assert.Equal(t, ReasonPingTimeout, (<-b.rec.closes).reason)
	})
}

// A graceful close that the client never collects ends after
// PingInterval+PingTimeout, with the close's own reason.
func TestHeartbeat_GracefulCloseGrace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubbleServer(t, &Options{PingInterval: 300 * time.Millisecond, PingTimeout: 200 * time.Millisecond})
		b.handshake()
		s := b.rec.session(t)
		require.NoError(t, s.Close())
		time.Sleep(500*time.Millisecond - time.Nanosecond)
		synctest.Wait()
		assert.Empty(t, b.rec.closes)
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		assert.Equal(t, ReasonForcedClose, (<-b.rec.closes).reason)
	})
}
