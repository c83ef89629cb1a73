package adaptertest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/gosio/adapter"
)

// roomCases check the local bookkeeping: AddAll, Del, DelAll and the
// queries SocketRooms, Rooms and Sockets.
var roomCases = []testCase{
	{name: "Rooms/AddAll", run: testAddAll},
	{name: "Rooms/Del", run: testDel},
	{name: "Rooms/DelAll", run: testDelAll},
	{name: "Rooms/NoRooms", run: testAddAllNoRooms},
	{name: "Rooms/ResultsAreCopies", run: testResultsAreCopies},
	{name: "Rooms/LocalOnly", minServers: 2, run: testRoomsLocalOnly},
}

func testAddAll(t *testing.T, h *Harness, n int) {
	c := newCluster(t, h, n, nil)
	a := c.servers[0].a
	s1 := c.newSocket(0, "s1", "a", "b")
	s2 := c.newSocket(0, "s2", "b")

	assert.ElementsMatch(t, []string{s1.id, "a", "b"}, a.SocketRooms(s1.id), "SocketRooms(s1)")
	assert.ElementsMatch(t, []string{s2.id, "b"}, a.SocketRooms(s2.id), "SocketRooms(s2)")
	assert.Empty(t, a.SocketRooms("unknown"), "SocketRooms of an unknown id")
	assert.ElementsMatch(t, []string{s1.id, s2.id, "a", "b"}, a.Rooms(), "Rooms")
	assert.ElementsMatch(t, []string{s1.id, s2.id}, a.Sockets(), "Sockets()")
	assert.ElementsMatch(t, []string{s1.id}, a.Sockets("a"), `Sockets("a")`)
	assert.ElementsMatch(t, []string{s1.id, s2.id}, a.Sockets("b"), `Sockets("b")`)
	assert.ElementsMatch(t, []string{s1.id, s2.id}, a.Sockets("a", "b", s2.id), "Sockets of overlapping rooms lists each socket once")
	assert.Empty(t, a.Sockets("nowhere"), "Sockets of an unknown room")

	a.AddAll(s1, "a", "c") // "a" again: no duplicate
	assert.ElementsMatch(t, []string{s1.id, "a", "b", "c"}, a.SocketRooms(s1.id), "SocketRooms after joining a room twice")
	assert.ElementsMatch(t, []string{s1.id}, a.Sockets("a"), "a room lists a socket once")
}

func testDel(t *testing.T, h *Harness, n int) {
	c := newCluster(t, h, n, nil)
	a := c.servers[0].a
	s1 := c.newSocket(0, "s1", "a", "b")
	s2 := c.newSocket(0, "s2", "b")

	a.Del(s1.id, "b")
	assert.ElementsMatch(t, []string{s1.id, "a"}, a.SocketRooms(s1.id), "SocketRooms(s1) after Del b")
	assert.ElementsMatch(t, []string{s2.id}, a.Sockets("b"), `Sockets("b") after s1 left`)

	a.Del(s2.id, "b")
	assert.Empty(t, a.Sockets("b"), `Sockets("b") once empty`)
	assert.NotContains(t, a.Rooms(), "b", "a room is deleted when its last socket leaves")

	a.Del(s1.id, "a")
	assert.NotContains(t, a.Rooms(), "a", "a room is deleted when its last socket leaves")
	assert.ElementsMatch(t, []string{s1.id, s2.id}, a.Rooms(), "Rooms: only the id rooms are left")

	// Leaving a room one is not in, or that does not exist, changes nothing.
	a.Del(s1.id, "nowhere")
	a.Del("unknown", s1.id)
	a.Del(s2.id, s1.id)
	assert.ElementsMatch(t, []string{s1.id}, a.SocketRooms(s1.id))
	assert.ElementsMatch(t, []string{s1.id}, a.Sockets(s1.id))
	assert.ElementsMatch(t, []string{s1.id, s2.id}, a.Sockets())
}

func testDelAll(t *testing.T, h *Harness, n int) {
	c := newCluster(t, h, n, nil)
	a := c.servers[0].a
	s1 := c.newSocket(0, "s1", "a", "b")
	s2 := c.newSocket(0, "s2", "b")

	a.DelAll(s1.id)
	assert.Empty(t, a.SocketRooms(s1.id), "SocketRooms after DelAll")
	assert.ElementsMatch(t, []string{s2.id}, a.Sockets(), "Sockets() after DelAll(s1)")
	assert.ElementsMatch(t, []string{s2.id}, a.Sockets("b"))
	assert.ElementsMatch(t, []string{s2.id, "b"}, a.Rooms(), "DelAll deletes the rooms it empties")

	a.DelAll(s1.id) // twice
	a.DelAll("unknown")
	a.DelAll(s2.id)
	assert.Empty(t, a.Rooms(), "Rooms once every socket is gone")
	assert.Empty(t, a.Sockets(), "Sockets once every socket is gone")

	// A socket that comes back starts afresh.
	a.AddAll(s1, s1.id)
	assert.ElementsMatch(t, []string{s1.id}, a.SocketRooms(s1.id))
}

func testAddAllNoRooms(t *testing.T, h *Harness, n int) {
	c := newCluster(t, h, n, nil)
	a := c.servers[0].a
	s := c.newSocketWith(0, "bare", nil)
	a.AddAll(s)
	assert.Empty(t, a.SocketRooms(s.id), "SocketRooms of a socket added with no room")
	assert.Empty(t, a.Rooms(), "no room is created")
	assert.ElementsMatch(t, []string{s.id}, a.Sockets(), "a socket added with no room is one of the adapter's sockets")

	name := c.marker("bare")
	p := eventPacket(name)
	require.NoError(t, a.Broadcast(p, adapter.BroadcastOptions{}))
	c.fence(0)
	c.checkDelivered(t, name, p, adapter.BroadcastOptions{}, []*Socket{s})
}

func testResultsAreCopies(t *testing.T, h *Harness, n int) {
	c := newCluster(t, h, n, nil)
	a := c.servers[0].a
	s := c.newSocket(0, "s", "a")

	rooms := a.SocketRooms(s.id)
	require.NotEmpty(t, rooms)
	rooms[0] = "mutated"
	all := a.Rooms()
	require.NotEmpty(t, all)
	all[0] = "mutated"
	ids := a.Sockets()
	require.NotEmpty(t, ids)
	ids[0] = "mutated"

	assert.ElementsMatch(t, []string{s.id, "a"}, a.SocketRooms(s.id), "SocketRooms must return a copy")
	assert.ElementsMatch(t, []string{s.id, "a"}, a.Rooms(), "Rooms must return a copy")
	assert.ElementsMatch(t, []string{s.id}, a.Sockets(), "Sockets must return a copy")
}

func testRoomsLocalOnly(t *testing.T, h *Harness, n int) {
	c := newCluster(t, h, n, nil)
	s0 := c.newSocket(0, "s", "a")
	s1 := c.newSocket(1, "s", "a", "b")

	a0, a1 := c.servers[0].a, c.servers[1].a
	assert.ElementsMatch(t, []string{s0.id}, a0.Sockets(), "server 0 lists its own sockets only")
	assert.ElementsMatch(t, []string{s0.id}, a0.Sockets("a"), "server 0 lists its own sockets only")
	assert.ElementsMatch(t, []string{s0.id, "a"}, a0.Rooms(), "server 0 lists its own rooms only")
	assert.Empty(t, a0.SocketRooms(s1.id), "server 0 does not know the rooms of server 1's sockets")
	assert.ElementsMatch(t, []string{s1.id, "a", "b"}, a1.Rooms())
}
