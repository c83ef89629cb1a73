package adaptertest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/socketio/parser"
)

// stressCases hammer the adapter from many goroutines (RELIABILITY.md row
// 22): run with -race.
var stressCases = []testCase{
	{name: "Concurrency", run: testConcurrency},
}

const (
	stressGoroutines  = 50
	stressMaxOps      = 2000 // per goroutine: the run ends at this count or after StressDuration
	stressStable      = 4    // per server: sockets that only receive
	stressVolatile    = 12   // per server: sockets that come and go
	stressStableRoom  = "stable"
	stressHotRoom     = "hot"
	stressRoomChoices = 6
)

// testConcurrency runs stressGoroutines goroutines for StressDuration (and
// at most stressMaxOps operations each), every one picking at random among
// AddAll, Del, DelAll, Broadcast (with and without rooms, Local),
// BroadcastWithAck, FetchSockets, AddSockets, DelSockets,
// DisconnectSockets and the queries, on a random server. The volatile
// sockets call back into the adapter from Deliver and Join. Then it checks
// that nothing deadlocked, that every broadcast to the stable room reached
// each stable socket exactly once, and that the bookkeeping is consistent.
func testConcurrency(t *testing.T, h *Harness, n int) {
	c := newCluster(t, h, n, replyWithIndex(nil))

	var stable []*Socket
	for srv := range c.servers {
		for i := range stressStable {
			stable = append(stable, c.newSocket(srv, fmt.Sprintf("stable%d", i), stressStableRoom))
		}
	}
	var quiet atomic.Bool    // set once the run is over: callbacks stop
	var volatile [][]*Socket // by server
	for srv := range c.servers {
		var mine []*Socket
		for i := range stressVolatile {
			s := c.newSocketWith(srv, fmt.Sprintf("vol%d", i), func(s *Socket) {
				s.countOnly = true
				s.onDeliver = func(s *Socket, _ *adapter.Encoded, _ adapter.Flags) {
					// Call back into the adapter from inside a delivery.
					if quiet.Load() {
						return
					}
					switch rand.N(4) {
					case 0:
						s.a.AddAll(s, stressHotRoom)
					case 1:
						s.a.Del(s.id, stressHotRoom)
					case 2:
						s.a.SocketRooms(s.id)
					case 3:
						s.Join(room(rand.N(stressRoomChoices)))
					}
				}
			})
			c.servers[srv].a.AddAll(s, s.id, room(i%stressRoomChoices))
			mine = append(mine, s)
		}
		volatile = append(volatile, mine)
	}

	// Mutating operations never select the stable sockets.
	except := []string{stressStableRoom}
	randomRooms := func() []string {
		rooms := make([]string, rand.N(3))
		for i := range rooms {
			rooms[i] = room(rand.N(stressRoomChoices))
		}
		return rooms
	}
	nonEmptyRooms := func() []string { return append(randomRooms(), room(rand.N(stressRoomChoices))) }

	var (
		stableNames sync.Map // event name → struct{}: broadcasts to the stable room
		ops         atomic.Int64
		failures    = make(chan string, 16)
	)
	fail := func(format string, args ...any) {
		select {
		case failures <- fmt.Sprintf(format, args...):
		default:
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	deadline := time.Now().Add(h.StressDuration)

	var wg sync.WaitGroup
	for g := range stressGoroutines {
		wg.Go(func() {
			for i := 0; i < stressMaxOps && time.Now().Before(deadline); i++ {
				srv := rand.N(n)
				a := c.servers[srv].a
				s := volatile[srv][rand.N(stressVolatile)]
				var err error
				switch op := rand.N(14); op {
				case 0, 1:
					a.AddAll(s, randomRooms()...)
				case 2:
					a.Del(s.id, room(rand.N(stressRoomChoices)))
				case 3:
					a.DelAll(s.id)
				case 4, 5:
					opts := adapter.BroadcastOptions{Rooms: randomRooms(), Except: except, Flags: adapter.Flags{Local: rand.N(4) == 0, Volatile: rand.N(2) == 0}}
					err = a.Broadcast(eventPacket(fmt.Sprintf("noise-%d-%d", g, i)), opts)
				case 6:
					name := fmt.Sprintf("stable-%d-%d", g, i)
					stableNames.Store(name, struct{}{})
					err = a.Broadcast(eventPacket(name), adapter.BroadcastOptions{Rooms: []string{stressStableRoom}})
				case 7:
					actx, acancel := context.WithTimeout(ctx, 50*time.Millisecond)
					p := eventPacket(fmt.Sprintf("ack-%d-%d", g, i))
					p.ID, p.HasID = uint64(i), true
					err = a.BroadcastWithAck(actx, p, adapter.BroadcastOptions{Rooms: nonEmptyRooms(), Except: except, Flags: adapter.Flags{Timeout: 50 * time.Millisecond}}, func(int) {}, func(*parser.Packet) {})
					acancel()
				case 8:
					fctx, fcancel := context.WithTimeout(ctx, h.Timeout)
					var infos []adapter.SocketInfo
					infos, err = a.FetchSockets(fctx, adapter.BroadcastOptions{Rooms: randomRooms()})
					fcancel()
					for _, info := range infos {
						if info.ID == "" {
							fail("FetchSockets returned a snapshot without id")
						}
					}
				case 9:
					err = a.AddSockets(adapter.BroadcastOptions{Rooms: nonEmptyRooms(), Except: except}, []string{room(rand.N(stressRoomChoices))})
				case 10:
					err = a.DelSockets(adapter.BroadcastOptions{Rooms: nonEmptyRooms(), Except: except}, []string{room(rand.N(stressRoomChoices)), stressHotRoom})
				case 11:
					if rand.N(20) == 0 {
						err = a.DisconnectSockets(adapter.BroadcastOptions{Rooms: []string{room(rand.N(stressRoomChoices))}, Except: except}, false)
					}
				case 12:
					a.Rooms()
					a.Sockets(randomRooms()...)
					a.SocketRooms(s.id)
				case 13:
					if rand.N(10) == 0 {
						sctx, scancel := context.WithTimeout(ctx, h.Timeout)
						_, err = a.ServerCount(sctx)
						scancel()
					}
				}
				if err != nil {
					fail("server %d: operation: %v", srv, err)
				}
				ops.Add(1)
			}
		})
	}
	start := time.Now()
	if !waitGroupWithin(&wg, h.StressDuration+30*time.Second) {
		t.Fatalf("the goroutines did not finish (deadlock?):\n%s", goroutineDump())
	}
	quiet.Store(true)
	close(failures)
	for f := range failures {
		t.Error(f)
	}
	t.Logf("%d operations by %d goroutines on %d server(s) in %v", ops.Load(), stressGoroutines, n, time.Since(start).Round(time.Millisecond))

	// Every broadcast to the stable room reached every stable socket
	// exactly once (nothing lost, nothing doubled).
	c.fenceAll()
	var want []string
	stableNames.Range(func(k, _ any) bool { want = append(want, k.(string)); return true })
	require.NotEmpty(t, want, "the run made no broadcast to the stable room")
	slices.Sort(want)
	for _, s := range stable {
		var got []string
		for _, d := range s.Deliveries() {
			if name := eventName(d.Encoded); len(name) > 7 && name[:7] == "stable-" {
				got = append(got, name)
			}
		}
		slices.Sort(got)
		if !slices.Equal(want, got) { // not ElementsMatch: thousands of names
			t.Errorf("socket %s (server %d): each broadcast to the stable room must arrive exactly once: %d broadcasts, %d deliveries, missing %v, extra %v",
				s.id, s.server, len(want), len(got), missing(want, got), missing(got, want))
		}
		assert.ElementsMatch(t, []string{s.id, stressStableRoom}, c.servers[s.server].a.SocketRooms(s.id), "socket %s was never selected by a mutation", s.id)
	}
	for _, srv := range c.servers {
		checkConsistent(t, srv)
	}
}

// missing returns the elements of the sorted list a that the sorted list b
// lacks, counting duplicates.
func missing(a, b []string) []string {
	var out []string
	for i, j := 0, 0; i < len(a); i++ {
		for j < len(b) && b[j] < a[i] {
			j++
		}
		if j < len(b) && b[j] == a[i] {
			j++
			continue
		}
		out = append(out, a[i])
	}
	return out
}

// room returns the name of the i-th room of the stress case.
func room(i int) string { return fmt.Sprintf("room%d", i) }

// checkConsistent checks that the queries of a quiet adapter agree with
// each other: no empty room, and rooms ↔ sockets both ways.
func checkConsistent(t *testing.T, srv *server) {
	t.Helper()
	a := srv.a
	sockets := a.Sockets()
	for _, r := range a.Rooms() {
		members := a.Sockets(r)
		assert.NotEmpty(t, members, "server %d: room %s is listed but empty", srv.idx, r)
		for _, id := range members {
			assert.Contains(t, a.SocketRooms(id), r, "server %d: %s is in room %s but SocketRooms does not say so", srv.idx, id, r)
			assert.Contains(t, sockets, id, "server %d: %s is in room %s but not in Sockets()", srv.idx, id, r)
		}
	}
	rooms := a.Rooms()
	for _, id := range sockets {
		for _, r := range a.SocketRooms(id) {
			assert.True(t, slices.Contains(rooms, r), "server %d: %s is in room %s, missing from Rooms()", srv.idx, id, r)
			assert.Contains(t, a.Sockets(r), id, "server %d: SocketRooms(%s) has %s but Sockets(%s) lacks it", srv.idx, id, r, r)
		}
	}
}
