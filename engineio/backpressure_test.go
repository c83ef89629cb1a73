package engineio

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// RELIABILITY row 13: a client that does not read is closed with "slow
// consumer" once its send queue would exceed MaxBufferedBytes; Send never
// blocks, memory stays bounded, and other sessions are unaffected.
func TestBackpressure_SlowConsumer(t *testing.T) {
	const maxBuffered = 256 << 10
	ts := newTestServer(t, &Options{MaxBufferedBytes: maxBuffered}, nil)

	stalled := ts.mustDialWS(t, "EIO=4&transport=websocket") // never reads
	slow := ts.rec.session(t)
	reader := ts.mustDialWS(t, "EIO=4&transport=websocket")
	parseOpen(t, reader.mustRead())
	fast := ts.rec.session(t)
	_ = stalled

	var want []string
	for i := range 10 {
		m := fmt.Sprintf("before-%d", i)
		require.NoError(t, fast.Send([]byte(m)))
		want = append(want, "4"+m)
	}

	heapBefore := liveHeap()
	var err error
	sent, maxQueued := 0, 0
	for i := range 10_000 {
		// A fresh payload per Send, as an application would build it.
		err = slow.Send(bytes.Repeat([]byte{'a' + byte(i%26)}, 4<<10))
		if err != nil {
			break
		}
		sent++
		slow.mu.Lock()
		maxQueued = max(maxQueued, slow.queueCost)
		slow.mu.Unlock()
		if i%100 == 0 {
			m := fmt.Sprintf("during-%d", i)
			require.NoError(t, fast.Send([]byte(m)), "the other session is unaffected")
			want = append(want, "4"+m)
		}
	}
	require.ErrorIs(t, err, ErrSlowConsumer, "after %d sends", sent)
	t.Logf("slow consumer after %d sends of 4 KiB, %d bytes queued at most", sent, maxQueued)
	// At least a full queue was accepted (more if the writer drained some
	// into the socket before it filled up).
	assert.GreaterOrEqual(t, sent, maxBuffered/(4<<10+packetOverhead), "the queue filled up first")
	assert.LessOrEqual(t, maxQueued, maxBuffered, "the queue never exceeds MaxBufferedBytes")

	ev := ts.rec.closed(t)
	assert.Equal(t, ReasonSlowConsumer, ev.reason)
	assert.ErrorIs(t, ev.err, ErrSlowConsumer)
	assert.ErrorIs(t, slow.Send([]byte("more")), ErrSessionClosed, "closed for good")
	assert.Equal(t, 1, ts.ClientsCount())

	heapAfter := liveHeap()
	growth := int64(heapAfter) - int64(heapBefore)
	assert.Less(t, growth, int64(16<<20), "heap grew by %d bytes", growth)

	for i := range 10 {
		m := fmt.Sprintf("after-%d", i)
		require.NoError(t, fast.Send([]byte(m)))
		want = append(want, "4"+m)
	}
	for i, w := range want {
		require.Equal(t, w, reader.readSkippingPings(), "message %d to the reading client", i)
	}
	assert.Equal(t, fast, ts.Session(fast.ID()), "the reading session is still open")
}

// The bound is against clients that do not read, not against big
// messages: one message larger than MaxBufferedBytes goes out on an empty
// queue.
func TestBackpressure_BigMessageOnEmptyQueue(t *testing.T) {
	const maxBuffered = 256 << 10
	ts := newTestServer(t, &Options{MaxBufferedBytes: maxBuffered}, nil)
	ws := ts.mustDialWS(t, "EIO=4&transport=websocket")
	parseOpen(t, ws.mustRead()) // the open packet has left the queue
	s := ts.rec.session(t)

	big := bytes.Repeat([]byte("0123456789abcdef"), (2*maxBuffered)/16)
	require.NoError(t, s.Send(big))
	got := ws.mustRead()
	assert.Equal(t, len(big)+1, len(got))
	assert.True(t, got == "4"+string(big), "big message differs")

	// The same on polling.
	c := ts.client(t)
	sid := c.handshake()
	ps := ts.rec.session(t)
	require.NoError(t, ps.SendBinary(big))
	res := c.get(pollQuery(sid))
	assert.Equal(t, 200, res.status)
	assert.Equal(t, byte('b'), res.body[0])
	assert.Greater(t, len(res.body), len(big))

	select {
	case ev := <-ts.rec.closes:
		t.Fatalf("session closed: %v", ev)
	default:
	}
}

// Send and friends fail with ErrSessionClosed once a session is closing
// or closed, whoever closed it.
func TestBackpressure_SendAfterClose(t *testing.T) {
	ts := newTestServer(t, nil, nil)

	// Closed by the server: closing at once, closed when the close is
	// delivered.
	ws := ts.mustDialWS(t, "EIO=4&transport=websocket")
	parseOpen(t, ws.mustRead())
	s := ts.rec.session(t)
	require.NoError(t, s.Close())
	for _, err := range []error{
		s.Send([]byte("x")), s.SendBinary([]byte{1}), s.SendMessages(NewMessage([]byte("y"), false)),
	} {
		assert.ErrorIs(t, err, ErrSessionClosed)
	}
	_ = ws.expectClosed()
	assert.Equal(t, ReasonForcedClose, ts.rec.closed(t).reason)
	assert.ErrorIs(t, s.Send([]byte("x")), ErrSessionClosed)

	// Closed by the client.
	ws2 := ts.mustDialWS(t, "EIO=4&transport=websocket")
	parseOpen(t, ws2.mustRead())
	s2 := ts.rec.session(t)
	ws2.send("1")
	assert.Equal(t, ReasonTransportClose, ts.rec.closed(t).reason)
	assert.ErrorIs(t, s2.Send([]byte("x")), ErrSessionClosed)
	assert.ErrorIs(t, s2.SendBinary([]byte{1}), ErrSessionClosed)

	// Polling, closed by the client.
	c := ts.client(t)
	sid := c.handshake()
	s3 := ts.rec.session(t)
	assert.Equal(t, "ok", c.post(pollQuery(sid), "1").body)
	assert.Equal(t, ReasonTransportClose, ts.rec.closed(t).reason)
	err := s3.Send([]byte("x"))
	assert.ErrorIs(t, err, ErrSessionClosed)
	assert.False(t, errors.Is(err, ErrSlowConsumer))
}
