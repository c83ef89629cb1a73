package sioclient

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/gosio/internal/leakcheck"
	"github.com/gosio/gosio/socketio"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// deadline bounds every wait.
const deadline = 10 * time.Second

// startServer starts an in-process gosio server with the two bench events
// the client tests need, with the same behaviour as bench/server (whose
// package main cannot be imported): bench:echo acks its arguments, and
// bench:broadcast {"count": C} emits C "tick" events to every socket then
// acks {"count": C}.
func startServer(t *testing.T) string {
	t.Helper()
	srv, err := socketio.New(&socketio.Options{Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	srv.On("bench:echo", func(_ context.Context, ev *socketio.Event) error {
		if !ev.HasAck() {
			return nil
		}
		return ev.Ack(ev.Args()...)
	})
	srv.On("bench:broadcast", func(_ context.Context, ev *socketio.Event) error {
		var p struct {
			Count int `json:"count"`
		}
		if err := ev.Scan(&p); err != nil {
			return err
		}
		for range p.Count {
			if err := srv.Emit("tick", strings.Repeat("x", 32)); err != nil {
				return err
			}
		}
		if !ev.HasAck() {
			return nil
		}
		return ev.Ack(map[string]int{"count": p.Count})
	})
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		assert.NoError(t, srv.Shutdown(ctx))
		hs.Close()
	})
	return strings.TrimPrefix(hs.URL, "http://")
}

// conn is what both clients offer.
type conn interface {
	Emit(event string, args []byte) error
	EmitWithAck(event string, args []byte, fn AckFunc) error
	PendingAcks() int
	Done() <-chan struct{}
	Err() error
	Close() error
}

// transports runs f over WebSocket and over polling.
func transports(t *testing.T, f func(t *testing.T, dial func(ctx context.Context, addr string, o Options) (conn, error))) {
	t.Run("websocket", func(t *testing.T) {
		// Registered first, so it runs after every other cleanup.
		t.Cleanup(leakcheck.Check(t))
		f(t, func(ctx context.Context, addr string, o Options) (conn, error) { return Dial(ctx, nil, addr, o) })
	})
	t.Run("polling", func(t *testing.T) {
		t.Cleanup(leakcheck.Check(t))
		hc := NewHTTPClient(4)
		t.Cleanup(hc.CloseIdleConnections)
		f(t, func(ctx context.Context, addr string, o Options) (conn, error) { return DialPolling(ctx, hc, addr, o) })
	})
}

// ack emits with an ack and waits for it.
func ack(t *testing.T, c conn, event, args string) string {
	t.Helper()
	got := make(chan string, 1)
	require.NoError(t, c.EmitWithAck(event, []byte(args), func(a []byte) { got <- string(a) }))
	select {
	case a := <-got:
		return a
	case <-time.After(deadline):
		t.Fatalf("no ack to %s", event)
	}
	return ""
}

func TestClient_EchoAck(t *testing.T) {
	transports(t, func(t *testing.T, dial func(ctx context.Context, addr string, o Options) (conn, error)) {
		addr := startServer(t)
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		c, err := dial(ctx, addr, Options{})
		require.NoError(t, err)
		defer c.Close()
		assert.Equal(t, `["hello",{"n":1},[2,3]]`, ack(t, c, "bench:echo", `"hello",{"n":1},[2,3]`))
		assert.Equal(t, `[]`, ack(t, c, "bench:echo", ``))
		// Several in flight, answered to the right callback each.
		got := make(chan string, 20)
		for i := range 20 {
			arg := strings.Repeat("y", i)
			require.NoError(t, c.EmitWithAck("bench:echo", []byte(`"`+arg+`"`), func(a []byte) {
				if string(a) != `["`+arg+`"]` {
					got <- "wrong: " + string(a)
					return
				}
				got <- "ok"
			}))
		}
		for range 20 {
			select {
			case s := <-got:
				assert.Equal(t, "ok", s)
			case <-time.After(deadline):
				t.Fatal("acks missing")
			}
		}
		assert.Zero(t, c.PendingAcks())
		require.NoError(t, c.Close())
		assert.NoError(t, c.Err(), "a client closed by us has no error")
	})
}

func TestClient_CountsTicks(t *testing.T) {
	transports(t, func(t *testing.T, dial func(ctx context.Context, addr string, o Options) (conn, error)) {
		addr := startServer(t)
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		var ticks atomic.Int64
		var calls atomic.Int64
		o := Options{Ticks: &ticks, OnTick: func() { calls.Add(1) }}
		a, err := dial(ctx, addr, o)
		require.NoError(t, err)
		defer a.Close()
		b, err := dial(ctx, addr, o)
		require.NoError(t, err)
		defer b.Close()
		// The ack comes after the ticks on the sender's connection.
		assert.Equal(t, `[{"count":50}]`, ack(t, a, "bench:broadcast", `{"count":50,"size":32}`))
		end := time.Now().Add(deadline)
		for ticks.Load() < 100 && time.Now().Before(end) {
			time.Sleep(5 * time.Millisecond)
		}
		assert.EqualValues(t, 100, ticks.Load(), "50 ticks to each of two clients")
		assert.EqualValues(t, 100, calls.Load())
		// An event without ack is sent (no answer is expected: the
		// echo after it proves the server read it and kept going).
		require.NoError(t, a.Emit("bench:echo", []byte(`"x"`)))
		assert.Equal(t, `["z"]`, ack(t, a, "bench:echo", `"z"`))
	})
}

func TestClient_ServerShutdownEndsClient(t *testing.T) {
	defer leakcheck.Check(t)()
	srv, err := socketio.New(&socketio.Options{Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	hs := httptest.NewServer(srv)
	defer hs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	c, err := Dial(ctx, nil, strings.TrimPrefix(hs.URL, "http://"), Options{})
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, srv.Shutdown(ctx))
	select {
	case <-c.Done():
		assert.Error(t, c.Err(), "an end we did not ask for has a reason")
	case <-time.After(deadline):
		t.Fatal("client did not notice the server shutting down")
	}
}

func TestAppendEvent(t *testing.T) {
	tests := []struct {
		id   int64
		ev   string
		args string
		want string
	}{
		{-1, "bench:echo", `"a"`, `42["bench:echo","a"]`},
		{7, "bench:echo", `"a",1`, `427["bench:echo","a",1]`},
		{0, "x", ``, `420["x"]`},
		{-1, `q"uote`, `{}`, `42["q\"uote",{}]`},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, string(appendEvent(nil, tt.id, tt.ev, []byte(tt.args))))
	}
}

func TestParseAck(t *testing.T) {
	id, args, err := parseAck([]byte(`312["a"]`))
	require.NoError(t, err)
	assert.EqualValues(t, 12, id)
	assert.Equal(t, `["a"]`, string(args))
	for _, bad := range []string{``, `3`, `3[]`, `2["a"]`, `399999999999999999999999[]`} {
		_, _, err := parseAck([]byte(bad))
		assert.Error(t, err, "%q", bad)
	}
}

func TestPackets(t *testing.T) {
	var got []string
	for p := range packets([]byte("2\x1e42[\"tick\",\"x\"]\x1e6")) {
		got = append(got, string(p))
	}
	assert.Equal(t, []string{"2", `42["tick","x"]`, "6"}, got)
	assert.True(t, isTick([]byte(`42["tick","xx"]`)))
	assert.False(t, isTick([]byte(`42["tock","xx"]`)))
}
