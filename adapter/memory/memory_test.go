package memory_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/adapter/adaptertest"
	"github.com/gosio/gosio/adapter/memory"
	"github.com/gosio/gosio/internal/leakcheck"
	"github.com/gosio/gosio/socketio/parser"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// harness runs the suite on the memory adapter: a single process, so the
// suite's multi-server cases are not run (it logs so).
var harness = adaptertest.Harness{
	MaxServers: 1,
	NewCluster: func(t *testing.T, n int) []adapter.Factory {
		if n != 1 {
			t.Fatalf("memory adapter: asked for a cluster of %d servers", n)
		}
		return []adapter.Factory{memory.New}
	},
}

func TestAdapter(t *testing.T) { adaptertest.Run(t, harness) }

// countingSocket is a LocalSocket whose Deliver only counts, for
// allocation measurements and benchmarks.
type countingSocket struct {
	id string
	n  atomic.Int64
}

func (s *countingSocket) ID() string                                              { return s.id }
func (s *countingSocket) Deliver(*adapter.Encoded, adapter.Flags)                 { s.n.Add(1) }
func (s *countingSocket) ExpectAck(context.Context, uint64, func(*parser.Packet)) {}
func (s *countingSocket) Join(...string)                                          {}
func (s *countingSocket) Leave(string)                                            {}
func (s *countingSocket) Disconnect(bool)                                         {}
func (s *countingSocket) Info() adapter.SocketInfo                                { return adapter.SocketInfo{ID: s.id} }

// populate adds n counting sockets to a, with ids prefix0, prefix1, …,
// each in its own id room and in rooms.
func populate(a *memory.Adapter, prefix string, n int, rooms ...string) []*countingSocket {
	out := make([]*countingSocket, n)
	for i := range out {
		s := &countingSocket{id: fmt.Sprintf("%s%d", prefix, i)}
		a.AddAll(s, append([]string{s.id}, rooms...)...)
		out[i] = s
	}
	return out
}

func delivered(sockets []*countingSocket) int64 {
	var n int64
	for _, s := range sockets {
		n += s.n.Load()
	}
	return n
}

// bigPacket returns an event whose encoding takes more than 1 MiB, so
// that encoding it shows in the bytes allocated.
func bigPacket() *parser.Packet {
	return &parser.Packet{Type: parser.Event, Namespace: "/", Data: jsontext.Value(`["big","` + strings.Repeat("x", 1<<20) + `"]`)}
}

// allocatedBytes returns the bytes f allocates (runtime.MemStats
// TotalAlloc, which the race detector and sync.Pool do not skew the way
// they skew allocation counts).
func allocatedBytes(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestNew(t *testing.T) {
	ns := adaptertest.NewNamespace("/chat", nil)
	a, err := memory.New(ns)
	require.NoError(t, err)
	assert.IsType(t, &memory.Adapter{}, a)
}

// TestBroadcast_NoRecipient_EncodesNothing: a broadcast that reaches no
// socket does not encode its packet.
func TestBroadcast_NoRecipient_EncodesNothing(t *testing.T) {
	a := memory.NewAdapter(adaptertest.NewNamespace("/", nil))
	sockets := populate(a, "s", 10, "room")
	p := bigPacket()
	for _, opts := range []adapter.BroadcastOptions{
		{Rooms: []string{"empty"}},
		{Rooms: []string{"room"}, Except: []string{"room"}},
		{Rooms: []string{"empty", "void"}},
	} {
		got := allocatedBytes(func() {
			for range 10 {
				require.NoError(t, a.Broadcast(p, opts))
			}
		})
		assert.Less(t, got, uint64(1<<20), "%+v: 10 broadcasts to nobody allocated %d bytes: the 1 MiB packet was encoded", opts, got)
		if !raceEnabled {
			assert.Zero(t, testing.AllocsPerRun(100, func() { _ = a.Broadcast(p, opts) }), "%+v: allocations of a broadcast to nobody", opts)
		}
	}
	assert.Zero(t, delivered(sockets))

	// Control: a broadcast to one socket does encode it.
	got := allocatedBytes(func() { require.NoError(t, a.Broadcast(p, adapter.BroadcastOptions{Rooms: []string{"s0"}})) })
	assert.GreaterOrEqual(t, got, uint64(1<<20), "the measure sees an encoding")
}

// TestBroadcast_EncodesOnce: the bytes allocated by a broadcast do not
// depend on the number of recipients (DESIGN.md decision 4).
func TestBroadcast_EncodesOnce(t *testing.T) {
	a := memory.NewAdapter(adaptertest.NewNamespace("/", nil))
	sockets := populate(a, "s", 100, "room")
	p := bigPacket()
	got := allocatedBytes(func() { require.NoError(t, a.Broadcast(p, adapter.BroadcastOptions{Rooms: []string{"room"}})) })
	assert.Less(t, got, uint64(2<<20), "one broadcast of 1 MiB to 100 sockets allocated %d bytes", got)
	assert.EqualValues(t, 100, delivered(sockets))
}

// TestBroadcast_AllocsIndependentOfRecipients: the target slices are
// pooled, so a broadcast costs the same allocations for 10 or 1000
// recipients (the allocations of adapter.Encode, nothing per recipient).
func TestBroadcast_AllocsIndependentOfRecipients(t *testing.T) {
	if raceEnabled {
		// make test runs the allocation tests again without -race.
		t.Skip("allocation counts are not exact under -race (sync.Pool drops items at random); covered by the non-race pass of make test")
	}
	p := eventPacket()
	for _, tc := range []struct {
		name string
		opts adapter.BroadcastOptions
	}{
		{"all", adapter.BroadcastOptions{}},
		{"room", adapter.BroadcastOptions{Rooms: []string{"room"}}},
		{"except", adapter.BroadcastOptions{Rooms: []string{"room"}, Except: []string{"s0"}}},
		{"two overlapping rooms", adapter.BroadcastOptions{Rooms: []string{"room", "half"}}},
	} {
		var allocs []float64
		for _, n := range []int{10, 1000} {
			a := memory.NewAdapter(adaptertest.NewNamespace("/", nil))
			for i, s := range populate(a, "s", n, "room") {
				if i%2 == 0 {
					a.AddAll(s, "half")
				}
			}
			_ = a.Broadcast(p, tc.opts) // warm the pool
			allocs = append(allocs, testing.AllocsPerRun(100, func() { _ = a.Broadcast(p, tc.opts) }))
		}
		want := testing.AllocsPerRun(100, func() { adapter.Encode(p, false) })
		assert.Equal(t, []float64{want, want}, allocs, "%s: allocations for 10 and 1000 recipients, want adapter.Encode's %v", tc.name, want)
	}
}

func eventPacket() *parser.Packet {
	return &parser.Packet{Type: parser.Event, Namespace: "/", Data: jsontext.Value(`["news",{"n":1}]`)}
}

// TestClose_ForgetsEverything: Close drops every room and socket, and a
// closed adapter adds none.
func TestClose_ForgetsEverything(t *testing.T) {
	a := memory.NewAdapter(adaptertest.NewNamespace("/", nil))
	sockets := populate(a, "s", 3, "room")
	require.NoError(t, a.Close())
	assert.Empty(t, a.Rooms())
	assert.Empty(t, a.Sockets())
	assert.Nil(t, a.SocketRooms("s0"))
	a.AddAll(sockets[0], "again")
	assert.Empty(t, a.Rooms(), "AddAll after Close is ignored")
	require.NoError(t, a.Broadcast(eventPacket(), adapter.BroadcastOptions{}))
	assert.Zero(t, delivered(sockets))
	assert.NoError(t, a.Close(), "Close is idempotent")
}

// TestSingleServer: with one process, the cluster operations need nobody
// and so ignore even a context that is already done.
func TestSingleServer(t *testing.T) {
	ns := adaptertest.NewNamespace("/", func(jsontext.Value, [][]byte) (jsontext.Value, [][]byte) {
		t.Error("the namespace must not answer its own server-side events")
		return nil, nil
	})
	a := memory.NewAdapter(ns)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	require.NoError(t, a.ServerSideEmit(jsontext.Value(`["ping"]`), nil))
	responses, err := a.ServerSideEmitWithAck(ctx, jsontext.Value(`["ping"]`), nil)
	assert.NoError(t, err)
	assert.Empty(t, responses)
	count, err := a.ServerCount(ctx)
	assert.NoError(t, err)
	assert.Equal(t, 1, count)
	assert.Empty(t, ns.Events(), "serverSideEmit reaches no other server, and never this one")
}

// TestBroadcastWithAck_CallerContext: on a single server the acks are
// registered with the caller's context itself, so they are dropped when
// it is done, and onCount runs before the call returns.
func TestBroadcastWithAck_CallerContext(t *testing.T) {
	a := memory.NewAdapter(adaptertest.NewNamespace("/", nil))
	s := adaptertest.NewSocket(a, "s")
	a.AddAll(s, "s")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var counts []int
	p := eventPacket()
	p.ID, p.HasID = 7, true
	require.NoError(t, a.BroadcastWithAck(ctx, p, adapter.BroadcastOptions{}, func(n int) { counts = append(counts, n) }, func(*parser.Packet) {}))
	assert.Equal(t, []int{1}, counts, "onCount is called once, synchronously")
	acks := s.Acks()
	require.Len(t, acks, 1)
	assert.Equal(t, ctx, acks[0].Ctx, "the caller's context")
	assert.Equal(t, uint64(7), acks[0].ID)
}
