package adaptertest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gosio/gosio/adapter"
)

// broadcastCases check Broadcast: who receives a packet, how often, with
// which flags, and that every server encodes it once.
var broadcastCases = []testCase{
	{name: "Broadcast/All", run: broadcastTest(func(w *world) ([]string, []string, adapter.Flags, []*Socket) {
		return nil, nil, adapter.Flags{}, w.all
	})},
	{name: "Broadcast/Room", run: broadcastTest(func(w *world) ([]string, []string, adapter.Flags, []*Socket) {
		return []string{"a"}, nil, adapter.Flags{}, w.in("a")
	})},
	{name: "Broadcast/Rooms", run: broadcastTest(func(w *world) ([]string, []string, adapter.Flags, []*Socket) {
		// Sockets in both rooms receive the packet once.
		return []string{"a", "b", "nowhere"}, nil, adapter.Flags{}, w.in("a", "b")
	})},
	{name: "Broadcast/Except", run: broadcastTest(func(w *world) ([]string, []string, adapter.Flags, []*Socket) {
		return nil, []string{"b"}, adapter.Flags{}, w.notIn(w.all, "b")
	})},
	{name: "Broadcast/RoomsExcept", run: broadcastTest(func(w *world) ([]string, []string, adapter.Flags, []*Socket) {
		return []string{"a", "c"}, []string{"b", "nowhere"}, adapter.Flags{}, w.notIn(w.in("a", "c"), "b")
	})},
	{name: "Broadcast/ExceptOwnID", run: broadcastTest(func(w *world) ([]string, []string, adapter.Flags, []*Socket) {
		// socket.broadcast.emit: everyone but the sender, by its id room.
		sender := w.byServer[0][0]
		return nil, []string{sender.id}, adapter.Flags{}, w.notIn(w.all, sender.id)
	})},
	{name: "Broadcast/ExceptOwnIDInRoom", run: broadcastTest(func(w *world) ([]string, []string, adapter.Flags, []*Socket) {
		// socket.to("a").emit from a member of a.
		sender := w.in("a")[0]
		return []string{"a"}, []string{sender.id}, adapter.Flags{}, w.notIn(w.in("a"), sender.id)
	})},
	{name: "Broadcast/ToSocketIDs", run: broadcastTest(func(w *world) ([]string, []string, adapter.Flags, []*Socket) {
		// io.to(socketID).emit: a socket's id room reaches it wherever it is.
		last := w.byServer[len(w.byServer)-1]
		targets := []*Socket{w.byServer[0][1], last[len(last)-1]}
		return socketIDs(targets), nil, adapter.Flags{}, targets
	})},
	{name: "Broadcast/Local", run: broadcastTest(func(w *world) ([]string, []string, adapter.Flags, []*Socket) {
		// The Local flag never crosses to another server (RELIABILITY row 36).
		return []string{"a"}, nil, adapter.Flags{Local: true}, w.onServer(w.in("a"), 0)
	})},
	{name: "Broadcast/LocalAll", run: broadcastTest(func(w *world) ([]string, []string, adapter.Flags, []*Socket) {
		return nil, []string{"c"}, adapter.Flags{Local: true}, w.onServer(w.notIn(w.all, "c"), 0)
	})},
	{name: "Broadcast/NoRecipient", run: broadcastTest(func(w *world) ([]string, []string, adapter.Flags, []*Socket) {
		return []string{"nowhere"}, nil, adapter.Flags{}, nil
	})},
	{name: "Broadcast/AllExcepted", run: broadcastTest(func(w *world) ([]string, []string, adapter.Flags, []*Socket) {
		return []string{"c"}, []string{"c"}, adapter.Flags{}, nil
	})},
	{name: "Broadcast/Flags", run: broadcastTest(func(w *world) ([]string, []string, adapter.Flags, []*Socket) {
		// Volatile and NoCompress reach Deliver; NoCompress marks the
		// Engine.IO messages uncompressed (checked against adapter.Encode).
		return []string{"b"}, nil, adapter.Flags{Volatile: true, NoCompress: true}, w.in("b")
	})},
	{name: "Broadcast/Binary", run: testBroadcastBinary},
	{name: "Broadcast/FromEveryServer", run: testBroadcastFromEveryServer},
	{name: "Broadcast/DuringDelivery", run: testBroadcastDuringDelivery},
}

// world is the population of the broadcast cases: on every server, one
// socket in no room but its own, and one in each of a, b, c and a+b.
type world struct {
	c        *cluster
	all      []*Socket
	byServer [][]*Socket
	rooms    map[*Socket][]string
}

func newWorld(c *cluster) *world {
	w := &world{c: c, rooms: map[*Socket][]string{}}
	for srv := range c.servers {
		var mine []*Socket
		for _, rooms := range [][]string{nil, {"a"}, {"b"}, {"a", "b"}, {"c"}} {
			name := "in-" + strings.Join(rooms, "")
			if len(rooms) == 0 {
				name = "alone"
			}
			s := c.newSocket(srv, name, rooms...)
			mine = append(mine, s)
			w.rooms[s] = append([]string{s.id}, rooms...)
		}
		w.byServer = append(w.byServer, mine)
		w.all = append(w.all, mine...)
	}
	return w
}

// in returns the sockets in any of rooms.
func (w *world) in(rooms ...string) []*Socket {
	var out []*Socket
	for _, s := range w.all {
		if slices.ContainsFunc(rooms, func(r string) bool { return slices.Contains(w.rooms[s], r) }) {
			out = append(out, s)
		}
	}
	return out
}

// notIn returns those of sockets in none of rooms.
func (w *world) notIn(sockets []*Socket, rooms ...string) []*Socket {
	var out []*Socket
	for _, s := range sockets {
		if !slices.ContainsFunc(rooms, func(r string) bool { return slices.Contains(w.rooms[s], r) }) {
			out = append(out, s)
		}
	}
	return out
}

// onServer returns those of sockets on server srv.
func (w *world) onServer(sockets []*Socket, srv int) []*Socket {
	var out []*Socket
	for _, s := range sockets {
		if s.server == srv {
			out = append(out, s)
		}
	}
	return out
}

// broadcastTest returns a case that populates a world, broadcasts from
// server 0 with the rooms, except and flags sel returns, and checks that
// exactly the sockets sel returns received it.
func broadcastTest(sel func(w *world) (rooms, except []string, flags adapter.Flags, want []*Socket)) func(*testing.T, *Harness, int) {
	return func(t *testing.T, h *Harness, n int) {
		c := newCluster(t, h, n, nil)
		w := newWorld(c)
		rooms, except, flags, want := sel(w)
		opts := adapter.BroadcastOptions{Rooms: rooms, Except: except, Flags: flags}
		name := c.marker("bc")
		p := eventPacket(name)
		require.NoError(t, c.servers[0].a.Broadcast(p, opts), "Broadcast")
		c.fence(0)
		c.checkDelivered(t, name, p, opts, want)
	}
}

func testBroadcastBinary(t *testing.T, h *Harness, n int) {
	c := newCluster(t, h, n, nil)
	w := newWorld(c)
	for _, noCompress := range []bool{false, true} {
		opts := adapter.BroadcastOptions{Rooms: []string{"a"}, Flags: adapter.Flags{NoCompress: noCompress}}
		name := c.marker("bin")
		p := binaryPacket(name)
		require.NoError(t, c.servers[0].a.Broadcast(p, opts))
		c.fence(0)
		c.checkDelivered(t, name, p, opts, w.in("a"))
	}
}

func testBroadcastFromEveryServer(t *testing.T, h *Harness, n int) {
	c := newCluster(t, h, n, nil)
	w := newWorld(c)
	for from := range c.servers {
		opts := adapter.BroadcastOptions{Rooms: []string{"b", "c"}, Except: []string{"a"}}
		name := c.marker("from")
		p := eventPacket(name)
		require.NoError(t, c.servers[from].a.Broadcast(p, opts), "Broadcast from server %d", from)
		c.fence(from)
		c.checkDelivered(t, name, p, opts, w.notIn(w.in("b", "c"), "a"))
	}
}

// testBroadcastDuringDelivery has every recipient call back into the
// adapter from Deliver (join, leave, query): an adapter that delivers
// while holding its lock deadlocks here. The recipient set is the one at
// the time of the call.
func testBroadcastDuringDelivery(t *testing.T, h *Harness, n int) {
	c := newCluster(t, h, n, nil)
	var sockets []*Socket
	for srv := range c.servers {
		for i := range 3 {
			s := c.newSocketWith(srv, fmt.Sprintf("cb%d", i), func(s *Socket) {
				s.onDeliver = func(s *Socket, _ *adapter.Encoded, _ adapter.Flags) {
					s.a.AddAll(s, "joined-during-delivery")
					s.a.SocketRooms(s.id)
					s.a.Sockets("a")
					s.a.Del(s.id, "a")
				}
			})
			c.servers[srv].a.AddAll(s, s.id, "a")
			sockets = append(sockets, s)
		}
	}
	opts := adapter.BroadcastOptions{Rooms: []string{"a"}}
	name := c.marker("cb")
	p := eventPacket(name)
	require.NoError(t, c.servers[0].a.Broadcast(p, opts))
	c.fenceAll()
	c.checkDelivered(t, name, p, opts, sockets)
	for _, s := range sockets {
		a := c.servers[s.server].a
		require.ElementsMatch(t, []string{s.id, "joined-during-delivery"}, a.SocketRooms(s.id), "rooms of %s after its callbacks", s.id)
	}
}
