package memory

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/socketio/parser"
)

type windowNS struct{ window time.Duration }

func (windowNS) Name() string                                                             { return "/" }
func (windowNS) ServerSideEvent(jsontext.Value, [][]byte, func(jsontext.Value, [][]byte)) {}
func (n windowNS) RecoveryWindow() time.Duration                                          { return n.window }

func event() *parser.Packet {
	return &parser.Packet{Type: parser.Event, Namespace: "/", Data: jsontext.Value(`["tick",1]`)}
}

// The packets kept for recovery are bounded in count, whatever the window
// (issue 4: the memory held is bounded).
func TestRecoveryStore_BoundedInCount(t *testing.T) {
	a := NewAdapter(windowNS{time.Hour})
	defer a.Close()
	for range MaxStoredPackets + 1000 {
		require.NoError(t, a.Broadcast(event(), adapter.BroadcastOptions{}))
	}
	a.recMu.Lock()
	n := len(a.rec.packets)
	first := a.rec.packets[0].offset
	a.recMu.Unlock()
	assert.Equal(t, MaxStoredPackets, n)
	// A client whose offset was dropped cannot recover.
	a.PersistSession(&adapter.Session{SID: "s", PID: "p", Rooms: []string{"s"}})
	s, err := a.RestoreSession(context.Background(), "p", a.rec.prefix+"1")
	require.NoError(t, err)
	assert.Nil(t, s, "offset no longer held")
	s, err = a.RestoreSession(context.Background(), "p", first)
	require.NoError(t, err)
	require.NotNil(t, s)
	assert.Len(t, s.MissedPackets, MaxStoredPackets-1)
}

// Packets and sessions older than the window are dropped as the store is
// used, and what is not recoverable is never kept.
func TestRecoveryStore_BoundedInTime(t *testing.T) {
	a := NewAdapter(windowNS{time.Nanosecond})
	defer a.Close()
	for range 100 {
		require.NoError(t, a.Broadcast(event(), adapter.BroadcastOptions{}))
	}
	a.PersistSession(&adapter.Session{SID: "s", PID: "p"})
	a.PersistSession(&adapter.Session{SID: "s2", PID: "p2"}) // purges the first
	require.NoError(t, a.Broadcast(event(), adapter.BroadcastOptions{}))
	a.recMu.Lock()
	assert.LessOrEqual(t, len(a.rec.packets), 1)
	assert.LessOrEqual(t, len(a.rec.sessions), 1)
	a.recMu.Unlock()

	b := NewAdapter(windowNS{time.Hour})
	defer b.Close()
	ack := event()
	ack.ID, ack.HasID = 7, true
	require.NoError(t, b.Broadcast(ack, adapter.BroadcastOptions{}))
	require.NoError(t, b.Broadcast(event(), adapter.BroadcastOptions{Flags: adapter.Flags{Volatile: true}}))
	assert.Empty(t, b.rec.packets, "acks and volatile packets are not kept")

	off := NewAdapter(windowNS{0})
	assert.Nil(t, off.rec, "recovery off: no store")
}

// An idle store is emptied by its timer, which then stops; Close stops it
// too.
func TestRecoveryStore_PurgedByTimer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := NewAdapter(windowNS{2 * time.Second})
		require.NoError(t, a.Broadcast(event(), adapter.BroadcastOptions{}))
		a.PersistSession(&adapter.Session{SID: "s", PID: "p"})
		time.Sleep(3 * time.Second) // window passed, purge ticks every 1 s
		synctest.Wait()
		a.recMu.Lock()
		assert.Empty(t, a.rec.packets)
		assert.Empty(t, a.rec.sessions)
		assert.Nil(t, a.rec.timer, "timer stops once the store is empty")
		a.recMu.Unlock()

		require.NoError(t, a.Broadcast(event(), adapter.BroadcastOptions{}))
		a.recMu.Lock()
		assert.NotNil(t, a.rec.timer)
		a.recMu.Unlock()
		require.NoError(t, a.Close())
		a.recMu.Lock()
		assert.Nil(t, a.rec.timer, "Close stops the timer")
		a.recMu.Unlock()
	})
}
