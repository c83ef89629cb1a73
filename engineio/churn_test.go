package engineio

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/gosio/internal/leakcheck"
)

// rst closes a TCP connection abruptly (RST instead of FIN).
func rst(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

// RELIABILITY row 23: sessions opened and closed in every way, including
// abrupt resets mid-poll and mid-upgrade, leave no session, no goroutine,
// and report their close exactly once.
func TestChurn_NoLeaks(t *testing.T) {
	t.Cleanup(leakcheck.Check(t)) // first registered, last run
	const n = 1000
	var mu sync.Mutex
	closes := map[string]int{}
	srv, err := New(nil)
	require.NoError(t, err)
	srv.OnConnection(func(s *Session) {
		s.OnClose(func(Reason, error) {
			mu.Lock()
			closes[s.ID()]++
			mu.Unlock()
		})
	})
	hts := httptest.NewServer(srv)
	t.Cleanup(hts.Close)
	ts := &testServer{Server: srv, ts: hts, url: hts.URL + srv.Path()}
	// Remember raw connections so the test can reset them.
	var connMu sync.Mutex
	var lastConn net.Conn
	tr := &http.Transport{
		MaxConnsPerHost: 4,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			connMu.Lock()
			lastConn = c
			connMu.Unlock()
			return c, err
		},
	}
	defer tr.CloseIdleConnections()
	c := ts.client(t)
	c.hc.Transport = tr

	for i := range n {
		switch i % 4 {
		case 0: // polling, client close packet
			sid := c.handshake()
			c.post(pollQuery(sid), "1")
		case 1: // polling, reset while a GET is pending
			sid := c.handshake()
			s := srv.Session(sid)
			require.NotNil(t, s)
			done := make(chan struct{})
			go func() {
				defer close(done)
				res, err := c.hc.Get(c.url(pollQuery(sid)))
				if err == nil {
					res.Body.Close()
				}
			}()
			waitPollPending(t, s)
			connMu.Lock()
			rst(lastConn)
			connMu.Unlock()
			<-done
		case 2: // WebSocket, abrupt reset
			ws := ts.mustDialWS(t, "EIO=4&transport=websocket")
			ws.mustRead()
			rst(ws.conn.NetConn())
		case 3: // polling, reset mid-upgrade (after the probe)
			sid := c.handshake()
			ws := ts.mustDialWS(t, "EIO=4&transport=websocket&sid="+sid)
			ws.send("2probe")
			ws.mustRead()
			rst(ws.conn.NetConn())
			c.post(pollQuery(sid), "1")
		}
	}
	require.Eventually(t, func() bool { return srv.ClientsCount() == 0 }, 10*time.Second, time.Millisecond)
	require.NoError(t, srv.Close())
	mu.Lock()
	defer mu.Unlock()
	assert.Len(t, closes, n)
	for sid, k := range closes {
		if k != 1 {
			t.Errorf("session %s closed %d times", sid, k)
		}
	}
	tr.CloseIdleConnections()
}
