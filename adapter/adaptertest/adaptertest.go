package adaptertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"strings"
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

// Harness describes the adapter under test.
type Harness struct {
	// NewCluster returns one factory per server of a new cluster of n
	// servers serving one namespace, isolated from every other cluster
	// the suite creates (for a network adapter: its own subjects or
	// prefix). n is at least 1 and at most max(MaxServers, 1). The suite
	// calls each factory once, with its own fake [Namespace], and closes
	// the adapters at the end of the test; NewCluster releases what the
	// cluster itself holds (connections, embedded servers) with
	// t.Cleanup. A single-process adapter returns its [adapter.Factory]:
	//
	//	func(*testing.T, int) []adapter.Factory { return []adapter.Factory{memory.New} }
	NewCluster func(t *testing.T, n int) []adapter.Factory

	// MaxServers is the largest cluster NewCluster can build. With 0 or 1
	// (a single-process adapter) the suite runs every case on one server
	// and logs that the multi-server cases were not run; with 2 or more it
	// runs every case again on a cluster of min(MaxServers, 3) servers.
	MaxServers int

	// Timeout bounds every wait of the suite: cluster formation, remote
	// deliveries, cluster requests. Zero means 5 s.
	Timeout time.Duration

	// StressDuration is how long the concurrency case runs. Zero means
	// 1 s (200 ms with -short).
	StressDuration time.Duration
}

// Run runs the suite against the adapter h describes, each case as a
// subtest of t: "servers=1/<case>" and, when h.MaxServers ≥ 2,
// "servers=N/<case>". It fails t, at once, if h is unusable.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.NewCluster == nil {
		t.Fatal("adaptertest: Harness.NewCluster is nil")
	}
	if h.Timeout <= 0 {
		h.Timeout = 5 * time.Second
	}
	if h.StressDuration <= 0 {
		h.StressDuration = time.Second
		if testing.Short() {
			h.StressDuration = 200 * time.Millisecond
		}
	}
	sizes := []int{1}
	if h.MaxServers >= 2 {
		sizes = append(sizes, min(h.MaxServers, 3))
	} else {
		t.Logf("adaptertest: Harness.MaxServers is %d: a single-process adapter, so the cases run on one server only (no servers=N run)", h.MaxServers)
	}
	for _, n := range sizes {
		t.Run(fmt.Sprintf("servers=%d", n), func(t *testing.T) {
			for _, c := range cases {
				if n < c.minServers {
					continue // e.g. partial answers need another server to stay silent
				}
				t.Run(c.name, func(t *testing.T) {
					defer watchdog(t, 4*h.Timeout+h.StressDuration+30*time.Second)()
					c.run(t, &h, n)
				})
			}
		})
	}
}

// testCase is one subtest of the suite, run for each cluster size from
// minServers up.
type testCase struct {
	name       string
	minServers int
	run        func(t *testing.T, h *Harness, n int)
}

// cases is the whole suite, in the order it runs.
var cases = slices.Concat(roomCases, broadcastCases, ackCases, socketsCases, serverSideCases, closeCases, stressCases)

// cluster is one cluster of adapters built for one test case.
type cluster struct {
	t       *testing.T
	timeout time.Duration
	servers []*server

	mu      sync.Mutex
	counter int
	sockets []*Socket // every socket created, for the checks
}

// server is one member of a cluster.
type server struct {
	idx    int
	a      adapter.Adapter
	ns     *Namespace
	closed bool // set by the test that closed it, before any fence
}

// clusterOption adjusts the namespaces of a cluster.
type clusterOption func(i int) ReplyFunc

// newCluster builds a cluster of n servers, namespace "/" each, and waits
// until every server counts n servers. reply, if not nil, gives server i's
// namespace its ReplyFunc.
func newCluster(t *testing.T, h *Harness, n int, reply clusterOption) *cluster {
	t.Helper()
	factories := h.NewCluster(t, n)
	require.Len(t, factories, n, "Harness.NewCluster(t, %d) must return %d factories", n, n)
	c := &cluster{t: t, timeout: h.Timeout}
	for i, f := range factories {
		var r ReplyFunc
		if reply != nil {
			r = reply(i)
		}
		ns := NewNamespace("/", r)
		a, err := f(ns)
		require.NoError(t, err, "factory of server %d", i)
		require.NotNil(t, a, "factory of server %d", i)
		c.servers = append(c.servers, &server{idx: i, a: a, ns: ns})
		t.Cleanup(func() {
			if err := noPanic(func() error { return a.Close() }); err != nil && !isClosedErr(err) {
				t.Errorf("server %d: Close at the end of the test: %v", i, err)
			}
		})
	}
	if n > 1 {
		for _, s := range c.servers {
			var last int
			var lastErr error
			c.eventually(func() bool {
				ctx, cancel := context.WithTimeout(t.Context(), h.Timeout)
				defer cancel()
				last, lastErr = s.a.ServerCount(ctx)
				return lastErr == nil && last == n
			}, "server %d: ServerCount never reached %d (last %d, %v): NewCluster must return servers that can find each other", s.idx, n, last, lastErr)
		}
	}
	return c
}

// ctx returns a context bounded by the harness timeout.
func (c *cluster) ctx() context.Context {
	ctx, cancel := context.WithTimeout(c.t.Context(), c.timeout)
	c.t.Cleanup(cancel)
	return ctx
}

// newSocket creates a recording socket on server srv, with an id unique in
// the cluster, and adds it to its own id room and to rooms, like a real
// socket on connection.
func (c *cluster) newSocket(srv int, name string, rooms ...string) *Socket {
	s := c.newSocketWith(srv, name, nil)
	c.servers[srv].a.AddAll(s, append([]string{s.id}, rooms...)...)
	return s
}

// newSocketWith creates a socket on server srv without adding it to the
// adapter; setup adjusts it before it is shared.
func (c *cluster) newSocketWith(srv int, name string, setup func(*Socket)) *Socket {
	s := NewSocket(c.servers[srv].a, fmt.Sprintf("%s@%d", name, srv))
	s.server = srv
	if setup != nil {
		setup(s)
	}
	c.mu.Lock()
	c.sockets = append(c.sockets, s)
	c.mu.Unlock()
	return s
}

// allSockets returns every socket created in the cluster.
func (c *cluster) allSockets() []*Socket {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sockets)
}

// marker returns a new name unique in the cluster, used as event name.
func (c *cluster) marker(prefix string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counter++
	return fmt.Sprintf("%s-%d", prefix, c.counter)
}

// eventually polls cond until it holds, failing the test after the
// harness timeout.
func (c *cluster) eventually(cond func() bool, format string, args ...any) {
	c.t.Helper()
	if !waitFor(c.timeout, cond) {
		c.t.Fatalf("after %v: "+format, append([]any{c.timeout}, args...)...)
	}
}

// waitFor polls cond until it holds or d passes; it reports whether cond
// held.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for wait := 100 * time.Microsecond; ; wait = min(2*wait, 10*time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(wait)
	}
}

// fence makes sure that everything server from sent before the call has
// reached every registered recording socket of the cluster: it broadcasts
// a fence event from it to every socket and waits until each has it. The
// suite assumes that broadcasts from one server reach a socket in the
// order they were sent (a Socket.IO cluster adapter processes its peers'
// messages in order).
func (c *cluster) fence(from int) {
	c.t.Helper()
	m := c.marker("fence")
	var targets []*Socket
	for _, s := range c.allSockets() {
		if !s.countOnly && !c.servers[s.server].closed && slices.Contains(c.servers[s.server].a.Sockets(), s.id) {
			targets = append(targets, s)
		}
	}
	require.NoError(c.t, c.servers[from].a.Broadcast(eventPacket(m), adapter.BroadcastOptions{}), "fence broadcast")
	for _, s := range targets {
		// A socket that an earlier operation removes (its server may not
		// have processed it yet) is not waited for.
		c.eventually(func() bool {
			return len(deliveriesOf(s, m)) > 0 || !slices.Contains(c.servers[s.server].a.Sockets(), s.id)
		}, "fence %s from server %d did not reach socket %s on server %d", m, from, s.id, s.server)
	}
}

// fenceAll fences from every server.
func (c *cluster) fenceAll() {
	c.t.Helper()
	for i := range c.servers {
		c.fence(i)
	}
}

// eventPacket returns an EVENT packet named name in namespace "/".
func eventPacket(name string) *parser.Packet {
	return &parser.Packet{Type: parser.Event, Namespace: "/", Data: jsontext.Value(fmt.Sprintf(`[%q,{"n":1},"x"]`, name))}
}

// binaryPacket returns a BINARY_EVENT packet named name with two
// attachments.
func binaryPacket(name string) *parser.Packet {
	return &parser.Packet{
		Type:        parser.BinaryEvent,
		Namespace:   "/",
		Data:        jsontext.Value(fmt.Sprintf(`[%q,{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`, name)),
		Attachments: [][]byte{{0, 1, 2, 0xff}, {}},
	}
}

// eventName returns the event name of the packet enc carries, "" if it is
// not an event.
func eventName(enc *adapter.Encoded) string {
	if enc == nil || enc.Packet == nil {
		return ""
	}
	return dataName(enc.Packet.Data)
}

// dataName returns the first element of data, a JSON array starting with
// an event name; "" if it is not.
func dataName(data jsontext.Value) string {
	var args []jsontext.Value
	if json.Unmarshal(data, &args) != nil || len(args) == 0 {
		return ""
	}
	var name string
	if json.Unmarshal(args[0], &name) != nil {
		return ""
	}
	return name
}

// deliveriesOf returns the deliveries of event name to s.
func deliveriesOf(s *Socket, name string) []Delivery {
	var out []Delivery
	for _, d := range s.Deliveries() {
		if eventName(d.Encoded) == name {
			out = append(out, d)
		}
	}
	return out
}

// socketIDs returns the ids of sockets.
func socketIDs(sockets []*Socket) []string {
	ids := make([]string, len(sockets))
	for i, s := range sockets {
		ids[i] = s.id
	}
	return ids
}

// checkDelivered checks that the broadcast of p (named name) with opts
// reached exactly want, once each, with the flags of opts, and that every
// server handed one *adapter.Encoded to all its recipients, consistent
// with p. Call it after a fence.
func (c *cluster) checkDelivered(t *testing.T, name string, p *parser.Packet, opts adapter.BroadcastOptions, want []*Socket) {
	t.Helper()
	encByServer := map[int]*adapter.Encoded{}
	for _, s := range c.allSockets() {
		if s.countOnly {
			continue
		}
		got := deliveriesOf(s, name)
		if !slices.Contains(want, s) {
			assert.Empty(t, got, "%s: socket %s (server %d) is not a recipient", name, s.id, s.server)
			continue
		}
		if !assert.Len(t, got, 1, "%s: socket %s (server %d) must receive it exactly once", name, s.id, s.server) {
			continue
		}
		d := got[0]
		assert.Equal(t, opts.Flags.Volatile, d.Flags.Volatile, "%s: Volatile flag passed to Deliver of %s", name, s.id)
		assert.Equal(t, opts.Flags.NoCompress, d.Flags.NoCompress, "%s: NoCompress flag passed to Deliver of %s", name, s.id)
		if first, ok := encByServer[s.server]; !ok {
			encByServer[s.server] = d.Encoded
			checkEncoded(t, name, p, opts.Flags.NoCompress, d.Encoded)
		} else {
			assert.Same(t, first, d.Encoded, "%s: server %d must encode once and hand the same *adapter.Encoded to every recipient (socket %s got another)", name, s.server, s.id)
		}
	}
}

// checkEncoded checks that enc carries p, and that its messages are those
// adapter.Encode makes of its packet.
func checkEncoded(t *testing.T, name string, p *parser.Packet, noCompress bool, enc *adapter.Encoded) {
	t.Helper()
	if !assert.NotNil(t, enc.Packet, "%s: Encoded.Packet", name) {
		return
	}
	got := enc.Packet
	assert.Equal(t, p.Type, got.Type, "%s: packet type", name)
	assert.Equal(t, p.Namespace, got.Namespace, "%s: packet namespace", name)
	assert.Equal(t, p.HasID, got.HasID, "%s: packet HasID", name)
	assert.Equal(t, p.ID, got.ID, "%s: packet ack id", name)
	assert.JSONEq(t, string(p.Data), string(got.Data), "%s: packet data", name)
	assert.Equal(t, len(p.Attachments), len(got.Attachments), "%s: number of attachments", name)
	for i := range min(len(p.Attachments), len(got.Attachments)) {
		assert.True(t, bytes.Equal(p.Attachments[i], got.Attachments[i]), "%s: attachment %d: got %x, want %x", name, i, got.Attachments[i], p.Attachments[i])
	}
	want := adapter.Encode(got, noCompress).Messages
	if !assert.Len(t, enc.Messages, len(want), "%s: Engine.IO messages (text frame + attachments)", name) {
		return
	}
	for i, m := range enc.Messages {
		assert.Equal(t, want[i].Binary(), m.Binary(), "%s: message %d binary", name, i)
		assert.Equal(t, string(want[i].Data()), string(m.Data()), "%s: message %d data", name, i)
		// Message has no accessor for its compression mark; a fresh
		// message equals adapter.Encode's only if the mark is the same.
		assert.True(t, reflect.DeepEqual(want[i], m), "%s: message %d differs from adapter.Encode(packet, noCompress=%t): compression mark?", name, i, noCompress)
	}
}

// isClosedErr reports whether err is what an operation on a closed
// adapter may return.
func isClosedErr(err error) bool { return err == nil || errors.Is(err, adapter.ErrClosed) }

// noPanic calls f, turning a panic into an error.
func noPanic(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return f()
}

// watchdog panics, with every goroutine's stack, if the returned stop
// function is not called within d: an adapter that deadlocks (for example
// by calling a socket while holding its lock) fails fast and tells where,
// instead of hanging until go test's own timeout.
func watchdog(t *testing.T, d time.Duration) (stop func()) {
	name := t.Name()
	timer := time.AfterFunc(d, func() {
		panic(fmt.Sprintf("adaptertest: %s did not finish within %v (deadlock?); goroutines:\n%s", name, d, goroutineDump()))
	})
	return func() { timer.Stop() }
}

// goroutineDump returns the stacks of every goroutine, for deadlock
// reports.
func goroutineDump() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return strings.TrimSpace(string(buf))
}
