package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/gosio/socketio"
)

// Connection state recovery (Node's connectionStateRecovery), against the
// official client's side of it: the "recovery" scenario of
// scripts/socketio_client.cjs.
//
// The client connects; the server joins it to room "r" and stores {"n":1}
// with SetData. On "ready" the server emits "before", then cuts the
// connection with Conn().Close() (reason "forced close", recoverable) and,
// once the socket is gone, broadcasts recoveryTicks "tick" events to "r",
// one "other" to a room the socket is not in and one "except_r" with
// Except("r"). The client reconnects on its own (its handshake is held by
// AllowRequest until the broadcasts are done, so that they are all missed),
// sending {pid, offset} in its auth; then asks "whoami", answered after an
// "after" event.

const recoveryTicks = 5

// recoverySuite is the table of the connection state recovery scenarios.
var recoverySuite = suite{
	title:  "Connection state recovery",
	file:   "recovery_test.go",
	script: socketIOScript,
	scenarios: []scenario{
		{test: "TestSocketIO_Recovery", modes: modes,
			run:    func(t *testing.T, m mode) { runRecovery(t, m, 2*time.Minute, true) },
			covers: "Conn().Close(), then broadcasts the socket misses; it comes back in time: same id, rooms and data, the missed events replayed once and in order, no others"},
		// The session expires before the client comes back: a new socket,
		// nothing replayed.
		{test: "TestSocketIO_RecoveryExpired", modes: modes,
			run:    func(t *testing.T, m mode) { runRecovery(t, m, time.Millisecond, false) },
			covers: "the session expired first: a new socket, nothing replayed"},
	},
}

func TestSocketIO_Recovery(t *testing.T) { runScenario(t) }

func TestSocketIO_RecoveryExpired(t *testing.T) { runScenario(t) }

// recoveryConn is what OnConnection saw of one socket, before the scenario's
// handler changed anything.
type recoveryConn struct {
	id        string
	recovered bool
	rooms     []string // without its own
	data      json.RawMessage
	auth      json.RawMessage
}

// recoveryState is a snapshot of the client's socket (obs.states).
type recoveryState struct {
	When       string          `json:"when"`
	ID         *string         `json:"id"`
	Connected  bool            `json:"connected"`
	Recovered  json.RawMessage `json:"recovered"`
	PID        *string         `json:"pid"`
	LastOffset *string         `json:"lastOffset"`
}

func runRecovery(t *testing.T, m mode, maxDisconnection time.Duration, wantRecovered bool) {
	var (
		mu        sync.Mutex
		conns     []recoveryConn
		bcastErrs []error

		cut           atomic.Bool
		firstGone     = make(chan struct{})
		goneOnce      sync.Once
		broadcastDone = make(chan struct{})
		started       atomic.Bool
		middleware    atomic.Int32
	)
	res, ts := runSocketIO(t, m, sioScenario{
		name: "recovery",
		opts: func(o *socketio.Options) {
			o.ConnectionStateRecovery = &socketio.RecoveryOptions{MaxDisconnectionDuration: maxDisconnection}
			// Hold the client's reconnection until the server has broadcast
			// what it must miss.
			o.Engine.AllowRequest = func(r *http.Request) error {
				if cut.Load() {
					select {
					case <-broadcastDone:
					case <-time.After(handlerWait):
					}
				}
				return nil
			}
		},
		setup: func(ts *sioServer) {
			ts.srv.Use(func(ctx context.Context, s *socketio.Socket) error {
				middleware.Add(1)
				return nil
			})
			ts.srv.OnConnection(func(ctx context.Context, s *socketio.Socket) error {
				c := recoveryConn{
					id:        s.ID(),
					recovered: s.Recovered(),
					rooms:     otherRooms(s.Rooms(), s.ID()),
					data:      mustJSON(s.Data()),
					auth:      json.RawMessage(slices.Clone(s.Handshake().Auth)),
				}
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
				if !s.Recovered() {
					s.Join("r")
					s.SetData(map[string]any{"n": 1})
				}
				return nil
			})
			ts.srv.OnDisconnect(func(s *socketio.Socket, reason socketio.Reason) {
				goneOnce.Do(func() { close(firstGone) })
			})
			ts.srv.On("ready", func(ctx context.Context, ev *socketio.Event) error {
				s := ev.Socket()
				if err := s.Emit("before", "b"); err != nil {
					return err
				}
				if !started.CompareAndSwap(false, true) {
					return fmt.Errorf("ready received twice")
				}
				cut.Store(true)
				go func() {
					defer close(broadcastDone)
					select {
					case <-firstGone:
					case <-time.After(handlerWait):
						mu.Lock()
						bcastErrs = append(bcastErrs, fmt.Errorf("the socket did not disconnect within %v of Conn().Close()", handlerWait))
						mu.Unlock()
					}
					var errs []error
					for i := range recoveryTicks {
						errs = append(errs, ts.srv.To("r").Emit("tick", i))
					}
					errs = append(errs, ts.srv.To("elsewhere").Emit("other", "x"), ts.srv.Except("r").Emit("except_r", "x"))
					mu.Lock()
					for _, err := range errs {
						if err != nil {
							bcastErrs = append(bcastErrs, err)
						}
					}
					mu.Unlock()
				}()
				return s.Conn().Close()
			})
			ts.srv.On("whoami", func(ctx context.Context, ev *socketio.Event) error {
				s := ev.Socket()
				if err := s.Emit("after", "a"); err != nil {
					return err
				}
				return ev.Ack(map[string]any{
					"id":        s.ID(),
					"recovered": s.Recovered(),
					"rooms":     otherRooms(s.Rooms(), s.ID()),
					"data":      s.Data(),
				})
			})
		},
	})
	select {
	case <-broadcastDone:
	case <-time.After(2 * handlerWait):
		t.Fatal("server: the broadcasts never ran (was \"ready\" received?)")
	}

	var obs struct {
		States []recoveryState `json:"states"`
		Whoami json.RawMessage `json:"whoami"`
	}
	res.decodeObs(t, &obs)
	c := res.socket(t, "c0")
	recs := ts.all()
	mu.Lock()
	defer mu.Unlock()
	assert.Empty(t, bcastErrs, "server: broadcasts while the client was away")
	require.Len(t, conns, 2, "server: OnConnection calls (Node emits \"connection\" again for a restored socket)")
	require.Len(t, recs, 2, "server: sockets recorded")
	first, second := conns[0], conns[1]

	t.Logf("client events: %s", mustJSON(c.Events))
	t.Logf("client states: %s", mustJSON(obs.States))
	t.Logf("server: auth of the second connection: %s", second.auth)
	// --- server ---
	assert.False(t, first.recovered, "server: Recovered() of the first connection")
	assert.Empty(t, first.rooms, "server: rooms of a new socket in OnConnection")
	assertJSON(t, `null`, first.data, "server: Data() of a new socket")
	assertServerReason(t, recs[0], "first connection (Conn().Close(), recoverable)", socketio.ReasonForcedClose)
	assertServerReason(t, recs[1], "second connection", socketio.ReasonClientNamespaceDisconnect)
	assert.NotEqual(t, recs[0].sid, recs[1].sid, "server: the second socket is on a new Engine.IO session")

	// The client's reconnection auth: its own payload plus pid and offset.
	var auth struct {
		Name   string  `json:"name"`
		PID    *string `json:"pid"`
		Offset *string `json:"offset"`
	}
	assertJSON(t, `{"name":"c0"}`, first.auth, "server: Handshake().Auth of the first connection")
	require.NoError(t, json.Unmarshal(second.auth, &auth), "server: Handshake().Auth of the second connection")
	assert.Equal(t, "c0", auth.Name, "server: auth.name of the second connection")

	// --- client: events, offsets, states ---
	offsets := map[string][]string{} // event → offsets appended by the server
	plain := map[string][]string{}   // event → arguments without the offset
	for _, e := range c.Events {
		var args []json.RawMessage
		if !assert.NoErrorf(t, json.Unmarshal(e.Args, &args), "client: args of %q", e.Event) {
			continue
		}
		var off string
		if assert.NotEmptyf(t, args, "client: %q has no arguments: the offset is missing", e.Event) &&
			assert.NoErrorf(t, json.Unmarshal(args[len(args)-1], &off), "client: last argument of %q must be the offset string, got %s", e.Event, e.Args) {
			offsets[e.Event] = append(offsets[e.Event], off)
			args = args[:len(args)-1]
		}
		plain[e.Event] = append(plain[e.Event], string(mustJSON(args)))
	}
	var allOffsets []string
	for _, offs := range offsets {
		for _, o := range offs {
			assert.NotEmpty(t, o, "client: an empty offset")
			allOffsets = append(allOffsets, o)
		}
	}
	slices.Sort(allOffsets)
	assert.Equal(t, len(allOffsets), len(slices.Compact(slices.Clone(allOffsets))), "client: offsets must be distinct: %v", offsets)

	assert.Equal(t, []string{`["b"]`}, plain["before"], "client: \"before\" (socket emit, offset stripped)")
	assert.Equal(t, []string{`["a"]`}, plain["after"], "client: \"after\" (socket emit after the reconnection, offset stripped)")
	assert.NotContains(t, plain, "other", "client: an event to a room the socket is not in must not be replayed")
	assert.NotContains(t, plain, "except_r", "client: an event with Except(\"r\") must not be replayed")
	if len(offsets["before"]) == 1 {
		if assert.NotNil(t, auth.Offset, "client: reconnection auth must carry the offset (auth %s)", second.auth) {
			assert.Equal(t, offsets["before"][0], *auth.Offset, "server: auth.offset of the reconnection = offset of the last event received (\"before\")")
		}
	}
	if assert.Len(t, c.Connections, 2, "client: \"connect\" events") {
		assert.Equal(t, recs[0].id, c.Connections[0].ID)
		assert.Equal(t, recs[1].id, c.Connections[1].ID)
	}
	assertClientReasons(t, c, "c0", clientReasonTransportClose, clientReasonClientDisconnect)
	assert.Equal(t, []int{1}, res.manager(t, "m0").Reconnects, "client: Manager \"reconnect\" events")

	var connects []recoveryState
	for _, st := range obs.States {
		if st.When == "connect" {
			connects = append(connects, st)
		}
	}
	require.Len(t, connects, 2, "client: states at \"connect\" (all: %+v)", obs.States)
	if assert.NotNil(t, connects[0].PID, "client: socket._pid after the first CONNECT (the server must send {sid, pid})") {
		assert.NotEmpty(t, *connects[0].PID)
		if auth.PID != nil {
			assert.Equal(t, *connects[0].PID, *auth.PID, "server: auth.pid of the reconnection = the pid of the first CONNECT")
		} else {
			assert.Fail(t, "client: reconnection auth must carry the pid", "auth %s", second.auth)
		}
	}
	assertJSON(t, `false`, connects[0].Recovered, "client: socket.recovered after the first connect")

	var wantTimeline []string
	if wantRecovered {
		assert.EqualValues(t, 1, middleware.Load(), "server: middleware calls (SkipMiddlewares defaults to true: not run for a restored socket)")
		ticks := []string{}
		for i := range recoveryTicks {
			ticks = append(ticks, fmt.Sprintf("[%d]", i))
		}
		assert.Equal(t, ticks, plain["tick"], "client: the missed ticks, each once and in order")
		assert.True(t, second.recovered, "server: Recovered() of the restored socket in OnConnection")
		assert.Equal(t, first.id, second.id, "server: the restored socket keeps its id")
		assert.Equal(t, []string{"r"}, second.rooms, "server: rooms of the restored socket in OnConnection")
		assertJSON(t, `{"n":1}`, second.data, "server: Data() of the restored socket in OnConnection")
		assertJSON(t, fmt.Sprintf(`{"id":%q,"recovered":true,"rooms":["r"],"data":{"n":1}}`, first.id), obs.Whoami, "client: whoami after the recovery")
		assertJSON(t, `true`, connects[1].Recovered, "client: socket.recovered after the reconnection")
		if connects[1].ID != nil && connects[0].ID != nil {
			assert.Equal(t, *connects[0].ID, *connects[1].ID, "client: socket.id after the recovery")
		}
		if connects[1].PID != nil && connects[0].PID != nil {
			assert.Equal(t, *connects[0].PID, *connects[1].PID, "client: the pid is kept (recovered = pid === _pid)")
		}
		// The missed packets come before the CONNECT answer: the client
		// buffers them and emits them on CONNECT, before "connect".
		wantTimeline = []string{"connect", "event: before", "disconnect: transport close"}
		for range recoveryTicks {
			wantTimeline = append(wantTimeline, "event: tick")
		}
		wantTimeline = append(wantTimeline, "connect", "event: after", "disconnect: io client disconnect")
		for _, st := range obs.States {
			if st.When == "event: tick" {
				assertJSON(t, `true`, st.Recovered, "client: socket.recovered while the replayed ticks are emitted")
			}
		}
	} else {
		assert.EqualValues(t, 2, middleware.Load(), "server: middleware calls (run again when the session cannot be restored)")
		assert.Empty(t, plain["tick"], "client: nothing replayed after the session expired")
		assert.False(t, second.recovered, "server: Recovered() after the session expired")
		assert.NotEqual(t, first.id, second.id, "server: a new id after the session expired")
		assert.Empty(t, second.rooms, "server: rooms of the new socket in OnConnection")
		assertJSON(t, `null`, second.data, "server: Data() of the new socket in OnConnection")
		assertJSON(t, fmt.Sprintf(`{"id":%q,"recovered":false,"rooms":["r"],"data":{"n":1}}`, second.id), obs.Whoami, "client: whoami after the reconnection")
		assertJSON(t, `false`, connects[1].Recovered, "client: socket.recovered after a reconnection without recovery")
		if connects[1].ID != nil && connects[0].ID != nil {
			assert.NotEqual(t, *connects[0].ID, *connects[1].ID, "client: socket.id after an expired session")
		}
		wantTimeline = []string{"connect", "event: before", "disconnect: transport close", "connect", "event: after", "disconnect: io client disconnect"}
	}
	assert.Equal(t, wantTimeline, c.Timeline, "client: events in order")
	if len(offsets["after"]) == 1 {
		var end *recoveryState
		for i := range obs.States {
			if obs.States[i].When == "end" {
				end = &obs.States[i]
			}
		}
		if assert.NotNil(t, end, "client: final state") && assert.NotNil(t, end.LastOffset, "client: socket._lastOffset") {
			assert.Equal(t, offsets["after"][0], *end.LastOffset, "client: socket._lastOffset = offset of the last event")
		}
	}
}
