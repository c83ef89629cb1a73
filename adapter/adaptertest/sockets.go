package adaptertest

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/gosio/adapter"
)

// socketsCases check the operations on the sockets a BroadcastOptions
// selects: FetchSockets, AddSockets, DelSockets, DisconnectSockets.
var socketsCases = []testCase{
	{name: "FetchSockets/All", run: fetchTest(nil, nil, false)},
	{name: "FetchSockets/Rooms", run: fetchTest([]string{"a", "c"}, nil, false)},
	{name: "FetchSockets/Except", run: fetchTest([]string{"a"}, []string{"b"}, false)},
	{name: "FetchSockets/Local", run: fetchTest([]string{"b"}, nil, true)},
	{name: "FetchSockets/None", run: fetchTest([]string{"nowhere"}, nil, false)},
	{name: "AddSockets", run: addSocketsTest(false)},
	{name: "AddSockets/Local", run: addSocketsTest(true)},
	{name: "DelSockets", run: testDelSockets},
	{name: "DisconnectSockets", run: disconnectTest(false)},
	{name: "DisconnectSockets/Close", run: disconnectTest(true)},
}

// selected returns the sockets of w that opts selects from server 0.
func (w *world) selected(opts adapter.BroadcastOptions) []*Socket {
	sockets := w.all
	if len(opts.Rooms) > 0 {
		sockets = w.in(opts.Rooms...)
	}
	sockets = w.notIn(sockets, opts.Except...)
	if opts.Flags.Local {
		sockets = w.onServer(sockets, 0)
	}
	return sockets
}

func fetchTest(rooms, except []string, local bool) func(*testing.T, *Harness, int) {
	return func(t *testing.T, h *Harness, n int) {
		c := newCluster(t, h, n, nil)
		w := newWorld(c)
		opts := adapter.BroadcastOptions{Rooms: rooms, Except: except, Flags: adapter.Flags{Local: local}}
		want := w.selected(opts)
		infos, err := c.servers[0].a.FetchSockets(c.ctx(), opts)
		require.NoError(t, err, "FetchSockets")
		got := make([]string, len(infos))
		for i, info := range infos {
			got[i] = info.ID
		}
		require.ElementsMatch(t, socketIDs(want), got, "FetchSockets returns the matched sockets of every server, once each")
		for _, info := range infos {
			i := slices.IndexFunc(want, func(s *Socket) bool { return s.id == info.ID })
			checkInfo(t, w, want[i], info)
		}
	}
}

// checkInfo checks a snapshot FetchSockets returned on server 0 for s.
func checkInfo(t *testing.T, w *world, s *Socket, got adapter.SocketInfo) {
	t.Helper()
	want := SocketInfo(s.id)
	hw, hg := want.Handshake, got.Handshake
	assert.Equal(t, hw.Headers, hg.Headers, "%s: handshake headers", s.id)
	assert.Equal(t, hw.Time, hg.Time, "%s: handshake time", s.id)
	assert.Equal(t, hw.Address, hg.Address, "%s: handshake address", s.id)
	assert.Equal(t, hw.XDomain, hg.XDomain, "%s: handshake xdomain", s.id)
	assert.Equal(t, hw.Secure, hg.Secure, "%s: handshake secure", s.id)
	assert.Equal(t, hw.Issued, hg.Issued, "%s: handshake issued", s.id)
	assert.Equal(t, hw.URL, hg.URL, "%s: handshake url", s.id)
	assert.Equal(t, hw.Query, hg.Query, "%s: handshake query", s.id)
	assert.JSONEq(t, string(hw.Auth), string(hg.Auth), "%s: handshake auth", s.id)
	assert.JSONEq(t, string(want.Data), string(got.Data), "%s: data", s.id)
	assert.ElementsMatch(t, w.rooms[s], got.Rooms, "%s: rooms", s.id)
	if s.server == 0 {
		assert.Equal(t, adapter.LocalSocket(s), got.Local, "%s: Local is the socket itself on its own server", s.id)
	} else {
		assert.Nil(t, got.Local, "%s: Local is nil for a socket of another server", s.id)
	}
}

func addSocketsTest(local bool) func(*testing.T, *Harness, int) {
	return func(t *testing.T, h *Harness, n int) {
		c := newCluster(t, h, n, nil)
		w := newWorld(c)
		opts := adapter.BroadcastOptions{Rooms: []string{"a"}, Except: []string{"b"}, Flags: adapter.Flags{Local: local}}
		want := w.selected(opts)
		require.NoError(t, c.servers[0].a.AddSockets(opts, []string{"x", "y"}), "AddSockets")
		c.fence(0)
		for _, s := range w.all {
			a := c.servers[s.server].a
			if slices.Contains(want, s) {
				// Through LocalSocket.Join, which ignores disconnected sockets.
				assert.ElementsMatch(t, []string{"x", "y"}, slices.Concat(s.Joins()...), "%s joins x and y through Join", s.id)
				assert.ElementsMatch(t, append(w.rooms[s], "x", "y"), a.SocketRooms(s.id), "rooms of %s", s.id)
			} else {
				assert.Empty(t, s.Joins(), "%s is not selected", s.id)
				assert.ElementsMatch(t, w.rooms[s], a.SocketRooms(s.id), "rooms of %s", s.id)
			}
		}
		for srv := range c.servers {
			assert.ElementsMatch(t, socketIDs(w.onServer(want, srv)), c.servers[srv].a.Sockets("x"), `server %d: Sockets("x")`, srv)
		}
	}
}

func testDelSockets(t *testing.T, h *Harness, n int) {
	c := newCluster(t, h, n, nil)
	w := newWorld(c)
	opts := adapter.BroadcastOptions{Rooms: []string{"a"}, Except: []string{"nowhere"}}
	want := w.selected(opts)
	require.NoError(t, c.servers[0].a.DelSockets(opts, []string{"b", "c", "nowhere"}), "DelSockets")
	c.fence(0)
	for _, s := range w.all {
		a := c.servers[s.server].a
		if slices.Contains(want, s) {
			assert.ElementsMatch(t, []string{"b", "c", "nowhere"}, s.Leaves(), "%s leaves the rooms through Leave", s.id)
			assert.ElementsMatch(t, w.notInRooms(s, "b", "c"), a.SocketRooms(s.id), "rooms of %s", s.id)
		} else {
			assert.Empty(t, s.Leaves(), "%s is not selected", s.id)
			assert.ElementsMatch(t, w.rooms[s], a.SocketRooms(s.id), "rooms of %s", s.id)
		}
	}
	for srv := range c.servers {
		assert.ElementsMatch(t, socketIDs(w.onServer(w.notIn(w.in("b"), "a"), srv)), c.servers[srv].a.Sockets("b"), `server %d: Sockets("b")`, srv)
	}
}

// notInRooms returns the rooms of s but those given.
func (w *world) notInRooms(s *Socket, rooms ...string) []string {
	var out []string
	for _, r := range w.rooms[s] {
		if !slices.Contains(rooms, r) {
			out = append(out, r)
		}
	}
	return out
}

func disconnectTest(close bool) func(*testing.T, *Harness, int) {
	return func(t *testing.T, h *Harness, n int) {
		c := newCluster(t, h, n, nil)
		w := newWorld(c)
		opts := adapter.BroadcastOptions{Rooms: []string{"b", "c"}, Except: []string{"a"}}
		want := w.selected(opts)
		require.NoError(t, c.servers[0].a.DisconnectSockets(opts, close), "DisconnectSockets")
		c.fence(0)
		for _, s := range w.all {
			a := c.servers[s.server].a
			if slices.Contains(want, s) {
				assert.Equal(t, []bool{close}, s.Disconnects(), "%s is disconnected once, close=%t", s.id, close)
				assert.NotContains(t, a.Sockets(), s.id, "%s is gone from its adapter", s.id)
			} else {
				assert.Empty(t, s.Disconnects(), "%s is not selected", s.id)
				assert.Contains(t, a.Sockets(), s.id, "%s stays", s.id)
			}
		}
		for srv := range c.servers {
			assert.NotContains(t, c.servers[srv].a.Rooms(), "c", "server %d: room c is deleted with its last socket", srv)
		}
	}
}
