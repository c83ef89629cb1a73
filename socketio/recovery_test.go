package socketio

import (
	"context"
	"encoding/json"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var offsetRe = regexp.MustCompile(`,"([^"]+)"\]$`)

// offsetOf returns the offset appended to an event frame.
func offsetOf(t *testing.T, frame string) string {
	t.Helper()
	m := offsetRe.FindStringSubmatch(frame)
	require.NotNil(t, m, "no offset in %s", frame)
	return m[1]
}

func TestRecovery(t *testing.T) {
	srv, url := newTestServer(t, &Options{ConnectionStateRecovery: &RecoveryOptions{}})
	sockets := make(chan *Socket, 4)
	reasons := make(chan Reason, 4)
	srv.OnConnection(func(ctx context.Context, s *Socket) error {
		if !s.Recovered() {
			s.Join("r")
			s.SetData("data of " + s.ID())
		}
		sockets <- s
		return nil
	})
	srv.OnDisconnect(func(s *Socket, r Reason) { reasons <- r })

	c := dial(t, url)
	c.send("0")
	ans := c.read()
	var hello struct{ SID, PID string }
	require.NoError(t, json.Unmarshal([]byte(ans[1:]), &hello))
	require.NotEmpty(t, hello.PID, "the CONNECT answer carries the pid: %s", ans)
	first := recv(t, sockets)
	assert.False(t, first.Recovered())

	require.NoError(t, srv.To("r").Emit("a", 1))
	frame := c.read()
	assert.Regexp(t, `^2\["a",1,"[^"]+"\]$`, frame, "an offset is appended")
	require.NoError(t, first.Emit("direct", 2))
	frame = c.read()
	assert.Regexp(t, `^2\["direct",2,"[^"]+"\]$`, frame, "socket emits get offsets too")
	offset := offsetOf(t, frame)

	_ = c.conn.Close() // the client loses its connection
	assert.Equal(t, ReasonTransportClose, recv(t, reasons))
	// Sent while it is away: only b and e reach its rooms.
	require.NoError(t, srv.To("r").Emit("b", 3))
	require.NoError(t, srv.To("elsewhere").Emit("c"))
	require.NoError(t, srv.Except("r").Emit("d"))
	require.NoError(t, srv.Emit("e"))
	require.NoError(t, srv.Volatile().Emit("volatile"))

	c2 := dial(t, url)
	c2.send(`0{"pid":"` + hello.PID + `","offset":"` + offset + `"}`)
	assert.Regexp(t, `^2\["b",3,"[^"]+"\]$`, c2.read(), "missed packets first, in order")
	assert.Regexp(t, `^2\["e","[^"]+"\]$`, c2.read())
	assert.Equal(t, `0{"sid":"`+hello.SID+`","pid":"`+hello.PID+`"}`, c2.read(), "then the CONNECT answer: same sid and pid")
	second := recv(t, sockets)
	assert.True(t, second.Recovered())
	assert.Equal(t, first.ID(), second.ID())
	assert.ElementsMatch(t, []string{second.ID(), "r"}, second.Rooms())
	assert.Equal(t, "data of "+first.ID(), second.Data())
	require.NoError(t, srv.To("r").Emit("after"))
	assert.Regexp(t, `^2\["after","[^"]+"\]$`, c2.read())

	// A session is restored once: the same proof again starts afresh.
	c3 := dial(t, url)
	c3.send(`0{"pid":"` + hello.PID + `","offset":"` + offset + `"}`)
	ans = c3.read()
	assert.NotContains(t, ans, hello.SID)
	assert.False(t, recv(t, sockets).Recovered())
}

func TestRecovery_ExpiredOrUnknown(t *testing.T) {
	// A window of 1ns: everything has expired by the time the client is back.
	srv, url := newTestServer(t, &Options{ConnectionStateRecovery: &RecoveryOptions{MaxDisconnectionDuration: time.Nanosecond}})
	sockets := make(chan *Socket, 4)
	srv.OnConnection(func(ctx context.Context, s *Socket) error { sockets <- s; return nil })
	c := dial(t, url)
	c.send("0")
	var hello struct{ SID, PID string }
	ans := c.read()
	require.NoError(t, json.Unmarshal([]byte(ans[1:]), &hello))
	first := recv(t, sockets)
	require.NoError(t, first.Emit("x"))
	offset := offsetOf(t, c.read())
	_ = c.conn.Close()
	require.Eventually(t, func() bool { return len(srv.Of("/").Sockets()) == 0 }, 5*time.Second, time.Millisecond)

	c2 := dial(t, url)
	c2.send(`0{"pid":"` + hello.PID + `","offset":"` + offset + `"}`)
	ans = c2.read()
	assert.NotContains(t, ans, hello.SID, "a new session")
	assert.False(t, recv(t, sockets).Recovered())

	c3 := dial(t, url)
	c3.send(`0{"pid":"nope","offset":"nope"}`)
	c3.read()
	assert.False(t, recv(t, sockets).Recovered())
}

// Without the option, nothing changes on the wire: no pid, no offsets.
func TestRecovery_OffByDefault(t *testing.T) {
	srv, url := newTestServer(t, nil)
	c := dial(t, url)
	c.send("0")
	assert.Regexp(t, `^0\{"sid":"[^"]+"\}$`, c.read())
	require.NoError(t, srv.Emit("x", 1))
	assert.Equal(t, `2["x",1]`, c.read())
}

// With SkipMiddlewares false, the middleware runs again for a recovered
// socket, and can refuse it.
func TestRecovery_MiddlewareNotSkipped(t *testing.T) {
	srv, url := newTestServer(t, &Options{ConnectionStateRecovery: &RecoveryOptions{SkipMiddlewares: new(false)}})
	var runs []bool
	var mu sync.Mutex
	srv.Use(func(ctx context.Context, s *Socket) error {
		mu.Lock()
		runs = append(runs, s.Recovered())
		mu.Unlock()
		if s.Recovered() {
			return &ConnectError{Message: "again, please"}
		}
		return nil
	})
	c := dial(t, url)
	c.send("0")
	var hello struct{ SID, PID string }
	ans := c.read()
	require.NoError(t, json.Unmarshal([]byte(ans[1:]), &hello))
	require.NoError(t, srv.Emit("x"))
	offset := offsetOf(t, c.read())
	_ = c.conn.Close()
	require.Eventually(t, func() bool { return len(srv.Of("/").Sockets()) == 0 }, 5*time.Second, time.Millisecond)

	c2 := dial(t, url)
	c2.send(`0{"pid":"` + hello.PID + `","offset":"` + offset + `"}`)
	assert.Equal(t, `4{"message":"again, please"}`, c2.read())
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []bool{false, true}, runs, "the middleware ran for the recovered socket")
}
