package engineio

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// engine.io-protocol test-suite "successfully upgrades from HTTP
// long-polling to WebSocket".
func TestUpgrade(t *testing.T) {
	ts := newTestServer(t, nil, echo)
	c := ts.client(t)
	sid := c.handshake()
	s := ts.rec.session(t)

	ws := ts.mustDialWS(t, "EIO=4&transport=websocket&sid="+sid)
	ws.send("2probe")
	assert.Equal(t, "3probe", ws.mustRead())
	assert.Equal(t, "6", c.get(pollQuery(sid)).body, "noop releases the polling cycle")
	ws.send("5")
	assert.Equal(t, TransportWebSocket, recv(t, ts.rec.upgrades, "upgrade"))
	assert.Equal(t, TransportWebSocket, s.Transport())
	ws.send("4hello")
	assert.Equal(t, "4hello", ws.mustRead())

	// The old transport is refused afterwards (test-suite "ignores HTTP
	// requests with same sid after upgrade").
	res := c.get(pollQuery(sid))
	assert.Equal(t, http.StatusBadRequest, res.status)
	assert.Equal(t, `{"code":3,"message":"Bad request"}`, res.body)
	assert.Equal(t, http.StatusBadRequest, c.post(pollQuery(sid), "4x").status)

	// And so is a second WebSocket ("ignores WebSocket connection with same
	// sid after upgrade"): accepted, then closed.
	ws2 := ts.mustDialWS(t, "EIO=4&transport=websocket&sid="+sid)
	ws2.expectClosed()
	ws.send("4still")
	assert.Equal(t, "4still", ws.mustRead())
}

// socket.io-protocol test-suite "should NOOP all polling requests while
// upgrading", and the GET pending when the WebSocket arrives is released.
func TestUpgrade_NoopWhileUpgrading(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	c := ts.client(t)
	sid := c.handshake()
	s := ts.rec.session(t)
	pending := make(chan response, 1)
	go func() { pending <- c.get(pollQuery(sid)) }()
	waitPollPending(t, s)
	ws := ts.mustDialWS(t, "EIO=4&transport=websocket&sid="+sid)
	assert.Equal(t, "6", recv(t, pending, "pending GET").body)
	for range 5 {
		res := c.get(pollQuery(sid))
		assert.Equal(t, http.StatusOK, res.status)
		assert.Equal(t, "6", res.body)
	}
	ws.send("2probe")
	ws.send("5")
	assert.Equal(t, "3probe", ws.mustRead())
	assert.Equal(t, TransportWebSocket, recv(t, ts.rec.upgrades, "upgrade"))
}

// RELIABILITY row 12 (a): a probe that never completes closes only the
// WebSocket; the polling session lives on.
func TestUpgrade_Timeout(t *testing.T) {
	ts := newTestServer(t, &Options{UpgradeTimeout: 500 * time.Millisecond}, echo)
	c := ts.client(t)
	sid := c.handshake()
	s := ts.rec.session(t)
	ws := ts.mustDialWS(t, "EIO=4&transport=websocket&sid="+sid)
	ws.send("2probe")
	assert.Equal(t, "3probe", ws.mustRead())
	ws.expectClosed()
	assert.Equal(t, TransportPolling, s.Transport())
	c.post(pollQuery(sid), "4alive")
	assert.Equal(t, "4alive", c.get(pollQuery(sid)).body)
	// A new upgrade may be tried.
	ws2 := ts.mustDialWS(t, "EIO=4&transport=websocket&sid="+sid)
	ws2.send("2probe")
	assert.Equal(t, "3probe", ws2.mustRead())
	ws2.send("5")
	recv(t, ts.rec.upgrades, "upgrade")
	assert.Empty(t, ts.rec.closes)
}

// An unexpected packet on the probe aborts the upgrade, not the session.
func TestUpgrade_UnexpectedPacket(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	c := ts.client(t)
	sid := c.handshake()
	s := ts.rec.session(t)
	ws := ts.mustDialWS(t, "EIO=4&transport=websocket&sid="+sid)
	ws.send("4too early")
	ws.expectClosed()
	assert.Equal(t, TransportPolling, s.Transport())
	assert.Empty(t, ts.rec.messages)
	require.NoError(t, s.Send([]byte("polling still works")))
	assert.Equal(t, "4polling still works", c.get(pollQuery(sid)).body)
}

// RELIABILITY row 12 (b): packets sent both ways around the switch arrive
// exactly once and in order.
func TestUpgrade_NothingLostAroundSwitch(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	c := ts.client(t)
	sid := c.handshake()
	s := ts.rec.session(t)
	const n = 2000
	// Queued before the upgrade completes, not yet polled: must go out
	// over the WebSocket.
	for i := range n / 2 {
		require.NoError(t, s.Send(fmt.Appendf(nil, "%d", i)))
	}
	c.post(pollQuery(sid), "4c0\x1e4c1")
	ws := ts.mustDialWS(t, "EIO=4&transport=websocket&sid="+sid)
	ws.send("2probe")
	assert.Equal(t, "3probe", ws.mustRead())
	ws.send("5")
	for i := n / 2; i < n; i++ {
		require.NoError(t, s.Send(fmt.Appendf(nil, "%d", i)))
	}
	ws.send("4c2")
	for i := range n {
		assert.Equal(t, fmt.Sprintf("4%d", i), ws.readSkippingPings())
	}
	for i := range 3 {
		assert.Equal(t, fmt.Sprintf("c%d", i), ts.rec.message(t).data)
	}
}

// RELIABILITY row 12 (c): the client goes away mid-upgrade.
func TestUpgrade_ClientGoneMidUpgrade(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	c := ts.client(t)
	sid := c.handshake()
	s := ts.rec.session(t)
	ws := ts.mustDialWS(t, "EIO=4&transport=websocket&sid="+sid)
	ws.send("2probe")
	assert.Equal(t, "3probe", ws.mustRead())
	ws.close()
	require.Eventually(t, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return !s.upgrading && s.probe == nil
	}, 5*time.Second, time.Millisecond)
	assert.Equal(t, TransportPolling, s.Transport())
	assert.Equal(t, 1, ts.ClientsCount())
	// The session closing mid-upgrade takes the probe with it.
	ws2 := ts.mustDialWS(t, "EIO=4&transport=websocket&sid="+sid)
	ws2.send("2probe")
	assert.Equal(t, "3probe", ws2.mustRead())
	require.NoError(t, s.Close())
	ws2.expectClosed()
	assert.Equal(t, "1", c.get(pollQuery(sid)).body)
	assert.Equal(t, ReasonForcedClose, ts.rec.closed(t).reason)
}

func TestUpgrade_Disallowed(t *testing.T) {
	ts := newTestServer(t, &Options{AllowUpgrades: new(false)}, nil)
	c := ts.client(t)
	res := c.get("EIO=4&transport=polling")
	assert.Contains(t, res.body, `"upgrades":[]`)
	sid := sidOf(t, res.body)
	ws := ts.mustDialWS(t, "EIO=4&transport=websocket&sid="+sid)
	ws.expectClosed()
	assert.Equal(t, 1, ts.ClientsCount())
}
