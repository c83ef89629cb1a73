package socketio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/gosio/internal/leakcheck"
	"github.com/gosio/gosio/internal/syncbuf"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

func TestConnect_MainAndCustomNamespace(t *testing.T) {
	srv, url := newTestServer(t, nil)
	conns := make(chan *Socket, 2)
	srv.OnConnection(func(ctx context.Context, s *Socket) error { conns <- s; return nil })
	srv.Of("/custom").OnConnection(func(ctx context.Context, s *Socket) error { conns <- s; return nil })
	c := dial(t, url)
	sid := c.connect("/")
	s := recv(t, conns)
	assert.Equal(t, sid, s.ID())
	assert.Equal(t, "/", s.Namespace().Name())
	assert.ElementsMatch(t, []string{sid}, s.Rooms(), "a socket is in its own room")
	assert.JSONEq(t, `{}`, string(s.Handshake().Auth))

	c.send(`0/custom,{"token":"abc"}`)
	ans := c.read()
	assert.Regexp(t, `^0/custom,\{"sid":"[A-Za-z0-9_-]{20}"\}$`, ans)
	s2 := recv(t, conns)
	assert.Equal(t, "/custom", s2.Namespace().Name())
	assert.JSONEq(t, `{"token":"abc"}`, string(s2.Handshake().Auth))
	assert.NotEqual(t, s.ID(), s2.ID())
	assert.Same(t, s.Conn(), s2.Conn(), "one connection, two namespaces")
}

// socket.io-protocol suite "should disallow connection to an unknown
// namespace": the connection stays open for other namespaces.
func TestConnect_UnknownNamespace(t *testing.T) {
	_, url := newTestServer(t, nil)
	c := dial(t, url)
	c.send("0/random,")
	assert.Equal(t, `4/random,{"message":"Invalid namespace"}`, c.read())
	c.connect("/")
}

func TestConnect_MiddlewareRejects(t *testing.T) {
	srv, url := newTestServer(t, nil)
	connected := make(chan struct{}, 1)
	srv.Use(func(ctx context.Context, s *Socket) error {
		var auth struct{ Token string }
		if err := jsonUnmarshal(s.Handshake().Auth, &auth); err != nil || auth.Token != "secret" {
			return &ConnectError{Message: "not authorized", Data: map[string]any{"code": 401}}
		}
		return nil
	})
	srv.Of("/plain").Use(func(ctx context.Context, s *Socket) error { return errors.New("plain error") })
	srv.OnConnection(func(context.Context, *Socket) error { connected <- struct{}{}; return nil })
	c := dial(t, url)
	c.send(`0{"token":"wrong"}`)
	assert.Equal(t, `4{"message":"not authorized","data":{"code":401}}`, c.read())
	c.send("0/plain,")
	assert.Equal(t, `4/plain,{"message":"plain error"}`, c.read())
	assert.Empty(t, connected)
	assert.Empty(t, srv.Of("/").Sockets())
	assert.Empty(t, srv.Of("/").Adapter().Rooms(), "a refused socket joins no room")
	c.send(`0{"token":"secret"}`)
	assert.Regexp(t, `^0\{"sid":"`, c.read())
	recv(t, connected)
}

func TestEvent_ScanAndAck(t *testing.T) {
	srv, url := newTestServer(t, nil)
	type payload struct {
		A int    `json:"a"`
		B string `json:"b"`
	}
	got := make(chan string, 4)
	srv.On("hello", func(ctx context.Context, ev *Event) error {
		var n int
		var p payload
		if err := ev.Scan(&n, &p); err != nil {
			return err
		}
		got <- fmt.Sprintf("%d %+v %d", n, p, ev.NumArgs())
		assert.True(t, ev.HasAck())
		require.NoError(t, ev.Ack("ok", n+1))
		assert.ErrorIs(t, ev.Ack("again"), ErrAckSent)
		return nil
	})
	c := dial(t, url)
	c.connect("/")
	c.send(`212["hello",1,{"a":2,"b":"x"}]`)
	assert.Equal(t, "1 {A:2 B:x} 2", recv(t, got))
	assert.Equal(t, `312["ok",2]`, c.read())
}

func TestEvent_NoAckWanted(t *testing.T) {
	srv, url := newTestServer(t, nil)
	errs := make(chan error, 1)
	srv.On("x", func(ctx context.Context, ev *Event) error { errs <- ev.Ack(1); return nil })
	c := dial(t, url)
	c.connect("/")
	c.send(`2["x"]`)
	assert.ErrorIs(t, recv(t, errs), ErrNoAck)
}

func TestEmit_FromServer(t *testing.T) {
	srv, url := newTestServer(t, nil)
	srv.OnConnection(func(ctx context.Context, s *Socket) error {
		return s.Emit("news", "hello", 42, map[string]any{"k": []int{1, 2}}, nil, true)
	})
	c := dial(t, url)
	c.connect("/")
	assert.Equal(t, `2["news","hello",42,{"k":[1,2]},null,true]`, c.read())
	assert.ErrorIs(t, srv.Of("/").Sockets()[0].Emit("disconnect"), ErrReservedEvent)
}

func TestBinary_BothWays(t *testing.T) {
	srv, url := newTestServer(t, nil)
	type upload struct {
		Name string `json:"name"`
		File []byte `json:"file"`
	}
	got := make(chan upload, 1)
	srv.On("upload", func(ctx context.Context, ev *Event) error {
		var u upload
		if err := ev.Scan(&u); err != nil {
			return err
		}
		got <- u
		return ev.Socket().Emit("echo", []byte{9, 8}, map[string]any{"nested": []byte{7}})
	})
	c := dial(t, url)
	c.connect("/")
	c.send(`51-["upload",{"name":"a.bin","file":{"_placeholder":true,"num":0}}]`)
	c.sendBinary([]byte{1, 2, 3})
	assert.Equal(t, upload{Name: "a.bin", File: []byte{1, 2, 3}}, recv(t, got))
	assert.Equal(t, `52-["echo",{"_placeholder":true,"num":0},{"nested":{"_placeholder":true,"num":1}}]`, c.read())
	assert.Equal(t, "bin:\x09\x08", c.read())
	assert.Equal(t, "bin:\x07", c.read())
}

func TestEmitWithAck_ClientAnswers(t *testing.T) {
	srv, url := newTestServer(t, nil)
	res := make(chan string, 1)
	srv.OnConnection(func(ctx context.Context, s *Socket) error {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			ack, err := s.EmitWithAck(ctx, "ping", 1)
			if err != nil {
				res <- err.Error()
				return
			}
			var v string
			_ = ack.Scan(&v)
			res <- v
		}()
		return nil
	})
	c := dial(t, url)
	c.connect("/")
	assert.Equal(t, `20["ping",1]`, c.read())
	c.send(`30["pong"]`)
	assert.Equal(t, "pong", recv(t, res))
}

// RELIABILITY rows 24 and 25: an ack that never comes ends with the
// context, leaves nothing pending; late and unknown acks are ignored.
func TestEmitWithAck_TimeoutAndLateAck(t *testing.T) {
	srv, url := newTestServer(t, nil)
	sockets := make(chan *Socket, 1)
	srv.OnConnection(func(ctx context.Context, s *Socket) error { sockets <- s; return nil })
	c := dial(t, url)
	c.connect("/")
	s := recv(t, sockets)
	_, err := s.Timeout(50*time.Millisecond).EmitWithAck(context.Background(), "slow")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Zero(t, s.pendingAcks())
	assert.Equal(t, `20["slow"]`, c.read())
	c.send(`30["late"]`)
	c.send(`399["unknown"]`)
	// Still connected and working.
	require.NoError(t, s.Emit("alive"))
	assert.Equal(t, `2["alive"]`, c.read())
}

func TestEmitWithAck_FailsOnDisconnect(t *testing.T) {
	srv, url := newTestServer(t, nil)
	sockets := make(chan *Socket, 1)
	srv.OnConnection(func(ctx context.Context, s *Socket) error { sockets <- s; return nil })
	c := dial(t, url)
	c.connect("/")
	s := recv(t, sockets)
	errc := make(chan error, 1)
	go func() {
		_, err := s.EmitWithAck(context.Background(), "never")
		errc <- err
	}()
	assert.Equal(t, `20["never"]`, c.read())
	c.send("1")
	assert.ErrorIs(t, recv(t, errc), ErrDisconnected)
	assert.Zero(t, s.pendingAcks())
}

func TestDisconnect_Reasons(t *testing.T) {
	srv, url := newTestServer(t, nil)
	reasons := make(chan Reason, 4)
	sockets := make(chan *Socket, 4)
	srv.OnDisconnect(func(s *Socket, r Reason) { reasons <- r })
	srv.OnConnection(func(ctx context.Context, s *Socket) error { sockets <- s; return nil })

	c := dial(t, url)
	c.connect("/")
	recv(t, sockets)
	c.send("1")
	assert.Equal(t, ReasonClientNamespaceDisconnect, recv(t, reasons))

	c.connect("/")
	s := recv(t, sockets)
	s.Disconnect(false)
	assert.Equal(t, "1", c.read())
	assert.Equal(t, ReasonServerNamespaceDisconnect, recv(t, reasons))
	assert.False(t, s.Connected())
	assert.ErrorIs(t, s.Emit("x"), ErrDisconnected)
	s.Join("late") // no-op after disconnect (RELIABILITY row 27)
	assert.Empty(t, srv.Of("/").Adapter().Rooms())

	c.connect("/")
	s = recv(t, sockets)
	s.Disconnect(true)
	assert.Equal(t, "1", c.read())
	assert.Equal(t, ReasonServerNamespaceDisconnect, recv(t, reasons))
	c.expectClosed()

	c2 := dial(t, url)
	c2.connect("/")
	recv(t, sockets)
	_ = c2.conn.Close()
	assert.Equal(t, ReasonTransportClose, recv(t, reasons))
}

func TestDisconnectHandlersOrder(t *testing.T) {
	srv, url := newTestServer(t, nil)
	var mu sync.Mutex
	var order []string
	note := func(s string) { mu.Lock(); order = append(order, s); mu.Unlock() }
	done := make(chan struct{})
	srv.OnConnection(func(ctx context.Context, s *Socket) error {
		s.Join("room")
		s.OnDisconnecting(func(s *Socket, r Reason) {
			note(fmt.Sprintf("disconnecting rooms=%d", len(s.Rooms())))
		})
		s.OnDisconnect(func(s *Socket, r Reason) {
			note(fmt.Sprintf("disconnect rooms=%d ctx=%v", len(s.Rooms()), s.Context().Err() != nil))
			close(done)
		})
		return s.Emit("ready")
	})
	c := dial(t, url)
	c.connect("/")
	// The connection handler runs after the CONNECT answer: close only
	// once it has joined "room" (a Join on a closing socket is dropped).
	assert.Equal(t, `2["ready"]`, c.read())
	c.send("1")
	<-done
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"disconnecting rooms=2", "disconnect rooms=0 ctx=true"}, order)
}

// socket.io-protocol test-suite "invalid format" cases and RELIABILITY
// rows 17–20: the connection is closed, other clients carry on.
func TestInvalidPackets_CloseConnection(t *testing.T) {
	for _, frame := range []string{
		"abc",
		`2{}`,
		`2abc["message-with-ack",1]`,
		`2[]`,
		`2["disconnect"]`,
		`3{}`,
		`0[]`,
		`511-["x"]`,
		`5-1-["x"]`,
		`51-["x",{"_placeholder":true,"num":1}]`,
		`29007199254740992["x"]`,
	} {
		t.Run(frame, func(t *testing.T) {
			srv, url := newTestServer(t, nil)
			reasons := make(chan Reason, 1)
			srv.OnDisconnect(func(s *Socket, r Reason) { reasons <- r })
			other := dial(t, url)
			other.connect("/")
			c := dial(t, url)
			c.connect("/")
			c.send(frame)
			c.expectClosed()
			assert.Equal(t, ReasonParseError, recv(t, reasons))
			require.NoError(t, srv.Emit("still"))
			assert.Equal(t, `2["still"]`, other.read())
		})
	}
}

func TestInvalidState_ClosesConnection(t *testing.T) {
	_, url := newTestServer(t, nil)
	c := dial(t, url)
	c.send(`2["not connected"]`) // event before CONNECT
	c.expectClosed()
	c2 := dial(t, url)
	c2.connect("/")
	c2.send("0") // CONNECT twice
	c2.expectClosed()
}

// RELIABILITY row 15: no CONNECT within ConnectTimeout closes the session.
func TestConnectTimeout(t *testing.T) {
	srv, url := newTestServer(t, &Options{ConnectTimeout: 100 * time.Millisecond})
	c := dial(t, url)
	c.expectClosed()
	c2 := dial(t, url)
	c2.connect("/")
	// Time must pass the timeout to show a connected client is not
	// closed; a round trip (not a mere write) proves it is alive.
	time.Sleep(200 * time.Millisecond)
	require.NoError(t, srv.Emit("alive"))
	assert.Equal(t, `2["alive"]`, c2.read())
}

func TestHandlerPanic_Recovered(t *testing.T) {
	errs := make(chan error, 1)
	var logs syncbuf.Buffer
	srv, url := newTestServer(t, &Options{
		OnError: func(s *Socket, err error) { errs <- err },
		Logger:  slog.New(slog.NewTextHandler(&logs, nil)),
	})
	sockets := make(chan *Socket, 1)
	srv.OnConnection(func(ctx context.Context, s *Socket) error { sockets <- s; return nil })
	srv.On("boom", func(ctx context.Context, ev *Event) error { panic("kaboom") })
	srv.On("ok", func(ctx context.Context, ev *Event) error { return ev.Ack("fine") })
	c := dial(t, url)
	c.connect("/")
	s := recv(t, sockets)
	c.send(`2["boom"]`)
	assert.ErrorContains(t, recv(t, errs), "kaboom")
	c.send(`21["ok"]`)
	assert.Equal(t, `31["fine"]`, c.read())
	// The log line names the session, the namespace and the socket.
	assert.Contains(t, logs.String(), fmt.Sprintf(`level=ERROR msg="socketio: handler panic" component=socketio sid=%s nsp=/ socket_id=%s event=boom panic=kaboom`, s.Conn().ID(), s.ID()))
}

func TestBroadcast_RoomsExceptSelf(t *testing.T) {
	srv, url := newTestServer(t, nil)
	sockets := make(chan *Socket, 8)
	srv.OnConnection(func(ctx context.Context, s *Socket) error { sockets <- s; return nil })
	var cs []*rawClient
	var ss []*Socket
	for range 4 {
		c := dial(t, url)
		c.connect("/")
		cs = append(cs, c)
		ss = append(ss, recv(t, sockets))
	}
	for _, s := range ss[:3] {
		s.Join("room")
	}
	ss[2].Join("quiet")
	require.NoError(t, ss[0].To("room").Emit("hi", "from 0"))
	assert.Equal(t, `2["hi","from 0"]`, cs[1].read())
	assert.Equal(t, `2["hi","from 0"]`, cs[2].read())

	require.NoError(t, srv.To("room").Except("quiet").Emit("r"))
	assert.Equal(t, `2["r"]`, cs[0].read())
	assert.Equal(t, `2["r"]`, cs[1].read())

	require.NoError(t, srv.Emit("all"))
	for _, c := range cs {
		assert.Equal(t, `2["all"]`, c.read())
	}
	// Nothing else arrived: a marker sent to each is the next frame.
	for i, s := range ss {
		require.NoError(t, s.Emit("marker", i))
		assert.Equal(t, fmt.Sprintf(`2["marker",%d]`, i), cs[i].read())
	}
	// Operators are immutable.
	base := srv.To("room")
	_ = base.Except("quiet")
	assert.Empty(t, base.except)
}

func TestBroadcast_EmitWithAck(t *testing.T) {
	srv, url := newTestServer(t, nil)
	sockets := make(chan *Socket, 8)
	srv.OnConnection(func(ctx context.Context, s *Socket) error { sockets <- s; return nil })
	var cs []*rawClient
	for range 3 {
		c := dial(t, url)
		c.connect("/")
		cs = append(cs, c)
		recv(t, sockets)
	}
	type result struct {
		res []*AckResponse
		err error
	}
	out := make(chan result, 1)
	go func() {
		res, err := srv.Timeout(2*time.Second).EmitWithAck(context.Background(), "q")
		out <- result{res, err}
	}()
	for i, c := range cs {
		frame := c.read()
		require.Regexp(t, `^2\d+\["q"\]$`, frame)
		id := regexp.MustCompile(`^2(\d+)`).FindStringSubmatch(frame)[1]
		c.send(fmt.Sprintf(`3%s[%d]`, id, i))
	}
	r := recv(t, out)
	require.NoError(t, r.err)
	var got []int
	for _, a := range r.res {
		var n int
		require.NoError(t, a.Scan(&n))
		got = append(got, n)
	}
	sort.Ints(got)
	assert.Equal(t, []int{0, 1, 2}, got)

	// One client does not answer: partial result and a typed error.
	go func() {
		res, err := srv.Timeout(100*time.Millisecond).EmitWithAck(context.Background(), "q2")
		out <- result{res, err}
	}()
	for i, c := range cs {
		frame := c.read()
		id := regexp.MustCompile(`^2(\d+)`).FindStringSubmatch(frame)[1]
		if i > 0 {
			c.send(fmt.Sprintf(`3%s[%d]`, id, i))
		}
	}
	r = recv(t, out)
	var pe *PartialError
	require.ErrorAs(t, r.err, &pe)
	assert.Equal(t, 3, pe.Expected)
	assert.Equal(t, 2, pe.Received)
	assert.ErrorIs(t, r.err, context.DeadlineExceeded)
	assert.Len(t, r.res, 2)
}

func TestFetchSocketsJoinLeaveDisconnect(t *testing.T) {
	srv, url := newTestServer(t, nil)
	sockets := make(chan *Socket, 8)
	srv.OnConnection(func(ctx context.Context, s *Socket) error {
		s.SetData(map[string]any{"user": "u-" + s.ID()[:4]})
		sockets <- s
		return nil
	})
	c1, c2 := dial(t, url), dial(t, url)
	id1, id2 := c1.connect("/"), c2.connect("/")
	recv(t, sockets)
	recv(t, sockets)

	require.NoError(t, srv.In(id1).SocketsJoin("vip"))
	rs, err := srv.In("vip").FetchSockets(context.Background())
	require.NoError(t, err)
	require.Len(t, rs, 1)
	assert.Equal(t, id1, rs[0].ID)
	assert.ElementsMatch(t, []string{id1, "vip"}, rs[0].Rooms)
	var data struct{ User string }
	require.NoError(t, rs[0].Data(&data))
	assert.Equal(t, "u-"+id1[:4], data.User)
	require.NoError(t, rs[0].Emit("direct", 1))
	assert.Equal(t, `2["direct",1]`, c1.read())

	all, err := srv.FetchSockets(context.Background())
	require.NoError(t, err)
	assert.Len(t, all, 2)

	require.NoError(t, srv.SocketsLeave("vip"))
	rs, _ = srv.In("vip").FetchSockets(context.Background())
	assert.Empty(t, rs)

	require.NoError(t, srv.In(id2).DisconnectSockets(false))
	assert.Equal(t, "1", c2.read())
	require.Eventually(t, func() bool { return len(srv.Of("/").Sockets()) == 1 }, 5*time.Second, time.Millisecond)
}

func TestServerSideEmit_NoPeers(t *testing.T) {
	srv, _ := newTestServer(t, nil)
	require.NoError(t, srv.ServerSideEmit("hello", 1))
	res, err := srv.ServerSideEmitWithAck(context.Background(), "hello")
	require.NoError(t, err)
	assert.Empty(t, res)
	assert.ErrorIs(t, srv.ServerSideEmit("connect"), ErrReservedEvent)
	n, err := srv.ServerCount(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the memory adapter serves one server")
}

func TestCatchAllListeners(t *testing.T) {
	srv, url := newTestServer(t, nil)
	in := make(chan string, 8)
	out := make(chan string, 8)
	srv.OnConnection(func(ctx context.Context, s *Socket) error {
		s.OnAny(func(ev *Event) { in <- "any:" + ev.Name() })
		remove := s.PrependAny(func(ev *Event) { in <- "first:" + ev.Name() })
		s.OnAnyOutgoing(func(event string, args []any) { out <- fmt.Sprintf("%s %v", event, args) })
		s.On("stop", func(ctx context.Context, ev *Event) error { remove(); return nil })
		return s.Emit("welcome", 1)
	})
	c := dial(t, url)
	c.connect("/")
	assert.Equal(t, "welcome [1]", recv(t, out))
	c.send(`2["stop"]`)
	assert.Equal(t, "first:stop", recv(t, in))
	assert.Equal(t, "any:stop", recv(t, in))
	c.send(`2["next"]`)
	assert.Equal(t, "any:next", recv(t, in))
}

func TestSocketMiddleware(t *testing.T) {
	errs := make(chan error, 1)
	srv, url := newTestServer(t, &Options{OnError: func(s *Socket, err error) { errs <- err }})
	handled := make(chan string, 4)
	srv.OnConnection(func(ctx context.Context, s *Socket) error {
		s.Use(func(next EventHandler) EventHandler {
			return EventHandlerFunc(func(ctx context.Context, ev *Event) error {
				if ev.Name() == "forbidden" {
					return errors.New("not allowed")
				}
				return next.ServeEvent(ctx, ev)
			})
		})
		s.On("allowed", func(ctx context.Context, ev *Event) error { handled <- ev.Name(); return nil })
		s.On("forbidden", func(ctx context.Context, ev *Event) error { handled <- ev.Name(); return nil })
		return nil
	})
	c := dial(t, url)
	c.connect("/")
	c.send(`2["forbidden"]`)
	assert.ErrorContains(t, recv(t, errs), "not allowed")
	c.send(`2["allowed"]`)
	assert.Equal(t, "allowed", recv(t, handled))
	assert.Empty(t, handled)
}

func TestDynamicNamespaces(t *testing.T) {
	srv, url := newTestServer(t, &Options{CleanupEmptyChildNamespaces: true})
	created := make(chan string, 4)
	parent := srv.OfRegexp(regexp.MustCompile(`^/dyn-\d+$`))
	parent.OnNamespace(func(ns *Namespace) { created <- ns.Name() })
	parent.On("hi", func(ctx context.Context, ev *Event) error { return ev.Ack(ev.Socket().Namespace().Name()) })
	srv.OfFunc(func(name string, auth jsontext.Value) bool { return name == "/by-func" })
	c := dial(t, url)
	c.connect("/dyn-42")
	assert.Equal(t, "/dyn-42", recv(t, created))
	c.send(`2/dyn-42,7["hi"]`)
	assert.Equal(t, `3/dyn-42,7["/dyn-42"]`, c.read())
	c.connect("/by-func")
	c.send("0/dyn-x,")
	assert.Equal(t, `4/dyn-x,{"message":"Invalid namespace"}`, c.read())
	assert.Len(t, parent.Children(), 1)
	c.send("1/dyn-42,")
	require.Eventually(t, func() bool { return len(parent.Children()) == 0 }, 5*time.Second, time.Millisecond, "empty child cleaned up")
}

func TestRegisterReservedPanics(t *testing.T) {
	srv, _ := newTestServer(t, nil)
	for _, name := range []string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"} {
		assert.Panics(t, func() { srv.On(name, nil) }, name)
	}
}

func TestShutdown(t *testing.T) {
	srv, url := newTestServer(t, nil)
	reasons := make(chan Reason, 2)
	srv.OnDisconnect(func(s *Socket, r Reason) { reasons <- r })
	c := dial(t, url)
	c.connect("/")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(ctx) }()
	c.expectClosed()
	assert.Equal(t, ReasonServerShuttingDown, recv(t, reasons))
	require.NoError(t, recv(t, done))
	assert.ErrorIs(t, srv.Shutdown(ctx), ErrServerClosed)
}

// The lines every connection logs at level Debug (built only when that
// level is on) carry the session, namespace and socket ids.
func TestDebugLogs_ConnectionLifecycle(t *testing.T) {
	var logs syncbuf.Buffer
	srv, url := newTestServer(t, &Options{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	sockets := make(chan *Socket, 1)
	srv.OnConnection(func(ctx context.Context, s *Socket) error { sockets <- s; return nil })
	c := dial(t, url)
	c.connect("/")
	s := recv(t, sockets)
	sid, id := s.Conn().ID(), s.ID()
	require.NoError(t, srv.Close()) // waits for the handlers, and so for their logs
	out := logs.String()
	assert.Contains(t, out, fmt.Sprintf(`msg="socketio: socket connected" component=socketio sid=%s nsp=/ socket_id=%s`+"\n", sid, id))
	assert.Contains(t, out, fmt.Sprintf(`msg="socketio: socket disconnected" component=socketio sid=%s nsp=/ socket_id=%s reason="server shutting down"`+"\n", sid, id))
	assert.Regexp(t, `msg="engineio: session closed" component=engineio sid=`+regexp.QuoteMeta(sid)+` reason=`, out)
}
