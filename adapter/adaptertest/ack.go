package adaptertest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/socketio/parser"
)

// ackCases check BroadcastWithAck: counts, ack registration before
// delivery, ack forwarding and the lifetime of registrations.
var ackCases = []testCase{
	{name: "BroadcastWithAck/Counts", run: testAckCounts},
	{name: "BroadcastWithAck/NoTarget", run: testAckNoTarget},
	{name: "BroadcastWithAck/Local", run: testAckLocal},
	{name: "BroadcastWithAck/Forwarded", run: testAckForwarded},
	{name: "BroadcastWithAck/Context", run: testAckContext},
}

// ackRecorder collects what BroadcastWithAck reports.
type ackRecorder struct {
	mu     sync.Mutex
	counts []int
	acks   []*parser.Packet
}

func (r *ackRecorder) onCount(n int) {
	r.mu.Lock()
	r.counts = append(r.counts, n)
	r.mu.Unlock()
}

func (r *ackRecorder) onAck(p *parser.Packet) {
	r.mu.Lock()
	r.acks = append(r.acks, p)
	r.mu.Unlock()
}

func (r *ackRecorder) snapshot() (counts []int, acks []*parser.Packet) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.counts), slices.Clone(r.acks)
}

// ackPacket returns the packet of a broadcast with ack named name.
func ackPacket(name string) *parser.Packet {
	p := eventPacket(name)
	p.ID, p.HasID = 42, true
	return p
}

// broadcastWithAck runs BroadcastWithAck from server 0 and waits until
// every expected server has reported its count (servers of them), then
// fences.
func (c *cluster) broadcastWithAck(ctx context.Context, p *parser.Packet, opts adapter.BroadcastOptions, servers int) *ackRecorder {
	c.t.Helper()
	r := &ackRecorder{}
	require.NoError(c.t, c.servers[0].a.BroadcastWithAck(ctx, p, opts, r.onCount, r.onAck), "BroadcastWithAck")
	c.eventually(func() bool { counts, _ := r.snapshot(); return len(counts) >= servers },
		"onCount must be called once per server (%d)", servers)
	c.fence(0)
	return r
}

// checkAckRegistered checks that each of want registered exactly one ack
// for p, before the packet was delivered to it.
func checkAckRegistered(t *testing.T, name string, p *parser.Packet, want []*Socket) {
	t.Helper()
	for _, s := range want {
		acks := s.Acks()
		if !assert.Len(t, acks, 1, "%s: socket %s (server %d) must register one ack", name, s.id, s.server) {
			continue
		}
		assert.Equal(t, p.ID, acks[0].ID, "%s: ack id registered on %s", name, s.id)
		assert.NotNil(t, acks[0].Ctx, "%s: ack context of %s", name, s.id)
		assert.NotNil(t, acks[0].Fn, "%s: ack callback of %s", name, s.id)
		// The ack must be registered before the packet can be answered.
		deliveries, calls := s.Deliveries(), s.Calls()
		i := slices.IndexFunc(deliveries, func(d Delivery) bool { return eventName(d.Encoded) == name })
		if i < 0 {
			continue // reported by checkDelivered
		}
		deliverAt, seen := -1, 0
		for j, call := range calls {
			if call == CallDeliver {
				if seen == i {
					deliverAt = j
					break
				}
				seen++
			}
		}
		ackAt := slices.Index(calls, CallExpectAck)
		assert.True(t, ackAt >= 0 && ackAt < deliverAt, "%s: socket %s: ExpectAck must come before Deliver, calls %v", name, s.id, calls)
	}
}

func testAckCounts(t *testing.T, h *Harness, n int) {
	c := newCluster(t, h, n, nil)
	w := newWorld(c)
	opts := adapter.BroadcastOptions{Rooms: []string{"a", "c"}, Except: []string{"b"}, Flags: adapter.Flags{Timeout: h.Timeout}}
	want := w.notIn(w.in("a", "c"), "b")
	name := c.marker("ack")
	p := ackPacket(name)
	r := c.broadcastWithAck(c.ctx(), p, opts, n)

	counts, _ := r.snapshot()
	assert.Len(t, counts, n, "onCount is called once per server")
	total := 0
	for _, k := range counts {
		total += k
	}
	assert.Equal(t, len(want), total, "the counts add up to the number of targets, counts %v", counts)
	c.checkDelivered(t, name, p, opts, want)
	checkAckRegistered(t, name, p, want)
	for _, s := range w.notIn(w.all, socketIDs(want)...) {
		assert.Empty(t, s.Acks(), "%s: socket %s is not a target and registers no ack", name, s.id)
	}
}

func testAckNoTarget(t *testing.T, h *Harness, n int) {
	c := newCluster(t, h, n, nil)
	newWorld(c)
	name := c.marker("ack")
	r := c.broadcastWithAck(c.ctx(), ackPacket(name), adapter.BroadcastOptions{Rooms: []string{"nowhere"}, Flags: adapter.Flags{Timeout: h.Timeout}}, n)
	counts, acks := r.snapshot()
	assert.Equal(t, slices.Repeat([]int{0}, n), counts, "with no target, every server still reports its count, 0")
	assert.Empty(t, acks)
}

func testAckLocal(t *testing.T, h *Harness, n int) {
	c := newCluster(t, h, n, nil)
	w := newWorld(c)
	opts := adapter.BroadcastOptions{Rooms: []string{"a"}, Flags: adapter.Flags{Local: true, Timeout: h.Timeout}}
	want := w.onServer(w.in("a"), 0)
	name := c.marker("ack")
	p := ackPacket(name)
	r := c.broadcastWithAck(c.ctx(), p, opts, 1)
	c.fenceAll()
	counts, _ := r.snapshot()
	assert.Equal(t, []int{len(want)}, counts, "a local broadcast is counted by this server only")
	c.checkDelivered(t, name, p, opts, want)
	checkAckRegistered(t, name, p, want)
}

func testAckForwarded(t *testing.T, h *Harness, n int) {
	c := newCluster(t, h, n, nil)
	w := newWorld(c)
	opts := adapter.BroadcastOptions{Rooms: []string{"b"}, Flags: adapter.Flags{Timeout: h.Timeout}}
	want := w.in("b")
	name := c.marker("ack")
	p := ackPacket(name)
	r := c.broadcastWithAck(c.ctx(), p, opts, n)
	checkAckRegistered(t, name, p, want)

	// Each client answers: the ack reaches onAck wherever the socket is.
	for _, s := range want {
		acks := s.Acks()
		require.Len(t, acks, 1)
		acks[0].Fn(&parser.Packet{
			Type: parser.Ack, Namespace: "/", ID: acks[0].ID, HasID: true,
			Data: jsontext.Value(fmt.Sprintf(`["ok",%q]`, s.id)),
		})
	}
	c.eventually(func() bool { _, acks := r.snapshot(); return len(acks) >= len(want) },
		"every ack must reach onAck (%d)", len(want))
	time.Sleep(10 * time.Millisecond) // let a duplicate show
	_, acks := r.snapshot()
	var from []string
	for _, ack := range acks {
		var args []string
		if assert.NoError(t, json.Unmarshal(ack.Data, &args), "ack data %s", ack.Data) && assert.Len(t, args, 2) {
			assert.Equal(t, "ok", args[0])
			from = append(from, args[1])
		}
	}
	assert.ElementsMatch(t, socketIDs(want), from, "one ack per target, with its data")
}

// testAckContext checks that registrations are dropped in time: on this
// server with the caller's context, on the others at the latest after
// Flags.Timeout.
func testAckContext(t *testing.T, h *Harness, n int) {
	c := newCluster(t, h, n, nil)
	w := newWorld(c)
	timeout := min(h.Timeout/10, 500*time.Millisecond)
	opts := adapter.BroadcastOptions{Flags: adapter.Flags{Timeout: timeout}}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	name := c.marker("ack")
	p := ackPacket(name)
	c.broadcastWithAck(ctx, p, opts, n)
	checkAckRegistered(t, name, p, w.all)

	for _, s := range w.all {
		for _, ack := range s.Acks() {
			assert.NoError(t, ack.Ctx.Err(), "socket %s: the ack context is live while the caller waits", s.id)
		}
	}
	cancel()
	for _, s := range w.all {
		for _, ack := range s.Acks() {
			select {
			case <-ack.Ctx.Done():
			case <-time.After(h.Timeout):
				t.Errorf("socket %s (server %d): the ack registration is never dropped: its context is not done %v after the caller's (Flags.Timeout %v)", s.id, s.server, h.Timeout, timeout)
			}
		}
	}
}
