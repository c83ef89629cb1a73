package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/gosio/adapter/nats/natsembed"
	"github.com/gosio/gosio/examples/chat/chatapp/chattest"
	"github.com/gosio/gosio/internal/leakcheck"
)

// mainEnv makes the test binary run main() instead of the tests
// (TestMainSignals runs it as a child process).
const mainEnv = "GOSIO_CLUSTER_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) == "1" {
		main()
		os.Exit(0)
	}
	leakcheck.Main(m)
}

const (
	testTimeout = 10 * time.Second // any one wait
	stopTimeout = 30 * time.Second // run's return after its ctx is done
)

// startRun runs run(o) on its own goroutine, as main does, and returns
// what it reports once ready, and stop, which cancels its context and
// checks that it returns nil. stop also runs at cleanup.
func startRun(t *testing.T, o options) (ready, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	readyc := make(chan ready, 1)
	o.onReady = func(r ready) { readyc <- r }
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, o, slog.New(slog.DiscardHandler)) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-errc:
				assert.NoError(t, err, "run")
			case <-time.After(stopTimeout):
				t.Errorf("run did not return within %v of its context's end", stopTimeout)
			}
		})
	}
	t.Cleanup(stop)
	select {
	case r := <-readyc:
		require.Len(t, r.URLs, len(o.addrs))
		return r, stop
	case err := <-errc:
		once.Do(func() {})
		cancel()
		t.Fatalf("run returned before it was ready: %v", err)
	case <-time.After(testTimeout):
		t.Fatalf("run not ready within %v", testTimeout)
	}
	return ready{}, stop
}

func loopbacks(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "127.0.0.1:0"
	}
	return out
}

// Three servers over the embedded NATS server, a client on each: a join on
// one shows in the member list of a join on another, a message sent via
// one reaches the clients of the others, so do the join and leave notices
// and a 1.5 MiB image (above NATS's default max_payload of 1 MB); then a
// shutdown closes every client's WebSocket properly, and run returns nil
// (the leak check of TestMain sees that nothing is left behind).
func TestCluster_ThreeServers(t *testing.T) {
	r, stop := startRun(t, options{addrs: loopbacks(3), prefix: "chat", clientDir: t.TempDir()})
	assert.Empty(t, r.NATS, "the embedded NATS listens on no network by default")
	for _, u := range r.URLs {
		assert.Regexp(t, `^http://127\.0\.0\.1:\d+$`, u)
		res, err := http.Get(u + "/")
		require.NoError(t, err)
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, res.StatusCode, u)
		assert.Contains(t, string(body), `io({ transports: ["polling", "websocket"] })`, u)
	}

	alice := chattest.Dial(t, r.URLs[0])
	bob := chattest.Dial(t, r.URLs[2])
	carol := chattest.Dial(t, r.URLs[1])
	// Joins skip "user joined": the notice of an earlier join on another
	// server travels through NATS and may reach a newcomer's server after
	// the newcomer is in the room, and so the newcomer, before its ack.

	assert.Equal(t, `{"ok":true,"members":["alice"]}`, alice.CallSkipping("join", `{"nick":"alice","room":"go"}`, "user joined"))
	// Bob, on server 3, sees alice of server 1 in the member list.
	assert.Equal(t, `{"ok":true,"members":["alice","bob"]}`, bob.CallSkipping("join", `{"nick":"bob","room":"go"}`, "user joined"))
	alice.ExpectIgnoringAt("user joined", `{"nick":"bob"}`)
	assert.Equal(t, `{"ok":true,"members":["alice","bob","carol"]}`, carol.CallSkipping("join", `{"nick":"carol","room":"go"}`, "user joined"))
	alice.ExpectIgnoringAt("user joined", `{"nick":"carol"}`)
	bob.ExpectIgnoringAt("user joined", `{"nick":"carol"}`)
	// Another room of server 1 hears nothing of "go".
	dave := chattest.Dial(t, r.URLs[0])
	assert.Equal(t, `{"ok":true,"members":["dave"]}`, dave.CallSkipping("join", `{"nick":"dave","room":"rust"}`, "user joined"))

	// A message sent via server 2 reaches servers 1 and 3.
	id := carol.Emit("chat", `{"text":"hello from 2"}`)
	carol.ExpectIgnoringAt("chat", `{"nick":"carol","text":"hello from 2"}`)
	carol.ExpectAck(id, `{"ok":true}`)
	alice.ExpectIgnoringAt("chat", `{"nick":"carol","text":"hello from 2"}`)
	bob.ExpectIgnoringAt("chat", `{"nick":"carol","text":"hello from 2"}`)

	// An image from server 3 (binary attachment) reaches the others
	// intact, the sender excepted.
	img := bytes.Repeat([]byte{0x89, 'P', 'N', 'G', 0, 0xff, '\n', 0x1e}, 3<<16) // 1.5 MiB
	id = bob.EmitBinary("image", `{"name":"cat.png","mime":"image/png","data":{"_placeholder":true,"num":0}}`, img)
	bob.ExpectAck(id, `{"ok":true}`)
	for _, c := range []*chattest.Client{alice, carol} {
		f := c.Next()
		require.Equal(t, "image", f.Event(), f)
		require.Len(t, f.Bins, 1, f)
		assert.True(t, bytes.Equal(img, f.Bins[0]), "image altered")
	}

	// Leaving server 3: the room hears of it on 1 and 2.
	require.NoError(t, bob.Close())
	alice.ExpectIgnoringAt("user left", `{"nick":"bob"}`)
	carol.ExpectIgnoringAt("user left", `{"nick":"bob"}`)
	assert.Equal(t, `{"ok":true,"members":["alice","carol"]}`, alice.CallSkipping("join", `{"nick":"alice","room":"go"}`, "user joined"))

	// Shutdown with clients connected: each gets a close frame and
	// answers it; run returns nil.
	drains := []<-chan error{alice.Drain(stopTimeout), carol.Drain(stopTimeout), dave.Drain(stopTimeout)}
	stop()
	for i, d := range drains {
		select {
		case err := <-d:
			var ce *websocket.CloseError
			assert.ErrorAs(t, err, &ce, "client %d: not a close frame", i)
		case <-time.After(testTimeout):
			t.Fatalf("client %d: connection still open after shutdown", i)
		}
	}
	for _, u := range r.URLs {
		_, err := http.Get(u + "/")
		assert.Error(t, err, "%s still listening after shutdown", u)
	}
}

// Two "processes": one lends its embedded NATS server (-nats-listen), the
// other connects to it (-nats); each serves one chat server, and they form
// one chat.
func TestCluster_Processes(t *testing.T) {
	a, stopA := startRun(t, options{addrs: loopbacks(1), natsListen: "127.0.0.1:0", prefix: "chat", clientDir: t.TempDir()})
	require.Regexp(t, `^nats://127\.0\.0\.1:\d+$`, a.NATS)
	b, stopB := startRun(t, options{addrs: loopbacks(1), natsURL: a.NATS, prefix: "chat", clientDir: t.TempDir()})
	assert.Empty(t, b.NATS)

	alice := chattest.Dial(t, a.URLs[0])
	bob := chattest.Dial(t, b.URLs[0])
	assert.Equal(t, `{"ok":true,"members":["alice"]}`, alice.CallSkipping("join", `{"nick":"alice","room":"go"}`, "user joined"))
	// B counts A once their heartbeats have crossed: poll the member list.
	members := bob.CallSkipping("join", `{"nick":"bob","room":"go"}`, "user joined")
	for deadline := time.Now().Add(testTimeout); members != `{"ok":true,"members":["alice","bob"]}` && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		members = bob.CallSkipping("join", `{"nick":"bob","room":"go"}`, "user joined")
	}
	assert.Equal(t, `{"ok":true,"members":["alice","bob"]}`, members)
	alice.ExpectIgnoringAt("user joined", `{"nick":"bob"}`)

	id := bob.Emit("chat", `{"text":"across processes"}`)
	bob.ExpectIgnoringAt("chat", `{"nick":"bob","text":"across processes"}`)
	bob.ExpectAck(id, `{"ok":true}`)
	alice.ExpectIgnoringAt("chat", `{"nick":"bob","text":"across processes"}`)

	// B leaves first (A holds the NATS server); A stops counting it at
	// once (its adapter says goodbye), so bob is no longer listed.
	drainB := bob.Drain(stopTimeout)
	stopB()
	select {
	case <-drainB:
	case <-time.After(testTimeout):
		t.Fatal("bob's connection still open after B's shutdown")
	}
	assert.Equal(t, `{"ok":true,"members":["alice"]}`, alice.CallSkipping("join", `{"nick":"alice","room":"go"}`, "user left"))
	drainA := alice.Drain(stopTimeout)
	stopA()
	select {
	case <-drainA:
	case <-time.After(testTimeout):
		t.Fatal("alice's connection still open after A's shutdown")
	}
}

// When one server of the cluster shuts down, the members of the others
// hear that its members left, as its disconnect handlers announce it (the
// chat's "user left"), like they would with Node's socket.io, whose
// io.close() runs the disconnect handlers before closing the adapter.
func TestCluster_ShutdownTellsOtherServers(t *testing.T) {
	a, _ := startRun(t, options{addrs: loopbacks(1), natsListen: "127.0.0.1:0", prefix: "chat", clientDir: t.TempDir()})
	b, stopB := startRun(t, options{addrs: loopbacks(1), natsURL: a.NATS, prefix: "chat", clientDir: t.TempDir()})
	alice := chattest.Dial(t, a.URLs[0])
	bob := chattest.Dial(t, b.URLs[0])
	alice.CallSkipping("join", `{"nick":"alice","room":"go"}`, "user joined")
	bob.CallSkipping("join", `{"nick":"bob","room":"go"}`, "user joined")
	alice.ExpectIgnoringAt("user joined", `{"nick":"bob"}`)

	drainB := bob.Drain(stopTimeout)
	stopB()
	<-drainB
	alice.ExpectIgnoringAt("user left", `{"nick":"bob"}`)
}

// An external NATS server with a max_payload under 2 MiB: the servers
// lower their image limit to what a NATS message can carry, so that an
// image either reaches every server or is refused, never delivered on one
// server only.
func TestCluster_SmallMaxPayload(t *testing.T) {
	bus, err := natsembed.Start(&natsembed.Options{Addr: "127.0.0.1:0", MaxPayload: 256 << 10})
	require.NoError(t, err)
	t.Cleanup(bus.Shutdown) // after run's stop: registered first
	r, _ := startRun(t, options{addrs: loopbacks(2), natsURL: bus.ClientURL(), prefix: "chat", clientDir: t.TempDir()})

	alice := chattest.Dial(t, r.URLs[0])
	bob := chattest.Dial(t, r.URLs[1])
	alice.CallSkipping("join", `{"nick":"alice","room":"go"}`, "user joined")
	assert.Equal(t, `{"ok":true,"members":["alice","bob"]}`, bob.CallSkipping("join", `{"nick":"bob","room":"go"}`, "user joined"))
	alice.ExpectIgnoringAt("user joined", `{"nick":"bob"}`)

	const arg = `{"name":"a.png","mime":"image/png","data":{"_placeholder":true,"num":0}}`
	assert.JSONEq(t, `{"ok":false,"error":"image larger than 192 KiB"}`, alice.AckOf(alice.EmitBinary("image", arg, make([]byte, 200<<10))))
	img := bytes.Repeat([]byte{1, 2, 3, 4}, 48<<10) // 192 KiB: the limit
	alice.ExpectAck(alice.EmitBinary("image", arg, img), `{"ok":true}`)
	f := bob.Next()
	require.Equal(t, "image", f.Event(), f)
	require.Len(t, f.Bins, 1, f)
	assert.True(t, bytes.Equal(img, f.Bins[0]), "image altered")
}

func TestRun_Errors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	// A port nobody listens on: one just closed.
	free, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	noNATS := "nats://" + free.Addr().String()
	require.NoError(t, free.Close())

	for _, c := range []struct {
		name string
		o    options
		want string
	}{
		{"no address", options{prefix: "chat"}, "no listen address"},
		{"nats and nats-listen", options{addrs: loopbacks(1), natsURL: "nats://127.0.0.1:4222", natsListen: "127.0.0.1:0", prefix: "chat"}, "-nats-listen"},
		// The second server's port is taken: the first is torn down.
		{"busy port", options{addrs: []string{"127.0.0.1:0", busy.Addr().String()}, prefix: "chat"}, "address already in use"},
		{"no NATS server", options{addrs: loopbacks(1), natsURL: noNATS, prefix: "chat"}, "connect"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := c.o
			o.onReady = func(ready) { t.Error("ready") }
			ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
			defer cancel()
			err := run(ctx, o, slog.New(slog.DiscardHandler))
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.NoError(t, ctx.Err(), "run returned at once")
		})
	}
}

// The command itself: SIGINT, then SIGTERM, stop it cleanly (exit status
// 0, "stopped" logged after "shutting down"), its clients closed properly.
func TestMainSignals(t *testing.T) {
	exe, err := os.Executable()
	require.NoError(t, err)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), stopTimeout+testTimeout)
			defer cancel()
			cmd := exec.CommandContext(ctx, exe, "-addrs", "127.0.0.1:0,127.0.0.1:0", "-client-dir", t.TempDir())
			cmd.Env = append(os.Environ(), mainEnv+"=1")
			cmd.WaitDelay = 2 * time.Second
			stderr, err := cmd.StderrPipe()
			require.NoError(t, err)
			require.NoError(t, cmd.Start())
			lines := make(chan string, 64)
			var logs []string
			readerDone := make(chan struct{})
			go func() {
				defer close(readerDone)
				defer close(lines)
				sc := bufio.NewScanner(stderr)
				for sc.Scan() {
					lines <- sc.Text()
				}
			}()
			defer func() {
				if t.Failed() {
					t.Logf("logs:\n%s", strings.Join(logs, "\n"))
				}
			}()
			var urls []string
			timeout := time.After(testTimeout)
			for urls == nil {
				select {
				case l, ok := <-lines:
					require.True(t, ok, "the command exited before it was ready")
					logs = append(logs, l)
					if m := regexp.MustCompile(`msg="cluster: ready" servers="([^"]+)"`).FindStringSubmatch(l); m != nil {
						urls = strings.Fields(m[1])
					}
				case <-timeout:
					t.Fatal("the command was not ready in time")
				}
			}
			require.Len(t, urls, 2)
			alice := chattest.Dial(t, urls[0])
			bob := chattest.Dial(t, urls[1])
			alice.CallSkipping("join", `{"nick":"alice","room":"go"}`, "user joined")
			assert.Equal(t, `{"ok":true,"members":["alice","bob"]}`, bob.CallSkipping("join", `{"nick":"bob","room":"go"}`, "user joined"))
			drains := []<-chan error{alice.Drain(stopTimeout), bob.Drain(stopTimeout)}

			require.NoError(t, cmd.Process.Signal(sig))
			for l := range lines {
				logs = append(logs, l)
			}
			<-readerDone
			require.NoError(t, cmd.Wait(), "exit status")
			all := strings.Join(logs, "\n")
			down, stopped := strings.Index(all, `msg="cluster: shutting down"`), strings.Index(all, `msg="cluster: stopped"`)
			assert.True(t, down >= 0 && stopped > down, "shutting down, then stopped")
			assert.NotContains(t, all, "level=ERROR")
			// (Warnings "chat: server error … adapter: closed" are the bug
			// TestCluster_ShutdownTellsOtherServers shows.)
			for i, d := range drains {
				var ce *websocket.CloseError
				select {
				case err := <-d:
					assert.ErrorAs(t, err, &ce, "client %d", i)
				case <-time.After(testTimeout):
					t.Fatalf("client %d still connected", i)
				}
			}
		})
	}
}
