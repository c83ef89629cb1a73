package main

// The parity tests drive this server and the Node reference server of
// bench/node (the official socket.io package, pinned by
// bench/node/package-lock.json) with the same raw Socket.IO frames, and
// require every answer to be byte-identical: the benchmark compares the
// two only if they do the same work.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	// nodeDir holds the Node reference server, relative to this package.
	nodeDir = "../node"
	// nodeInstallHint tells how to get its pinned packages.
	nodeInstallHint = "run `npm ci --prefix bench/node` from the repository root"
)

// nodePackages are the packages of bench/node/package.json; each must be
// pinned to an exact version.
var nodePackages = []string{"@socket.io/redis-adapter", "redis", "socket.io"}

// nodeLock is the part of package-lock.json the tests read.
type nodeLock struct {
	Packages map[string]struct {
		Version      string            `json:"version"`
		Dependencies map[string]string `json:"dependencies"`
	} `json:"packages"`
}

// requireNodeServer fails t unless node is on PATH and bench/node's
// packages are installed at the versions its lockfile pins. It never
// skips: a machine that cannot run the reference server must not pass the
// parity tests.
func requireNodeServer(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("parity: node not found on PATH (%v): install Node.js 20 or newer, then %s", err, nodeInstallHint)
	}
	data, err := os.ReadFile(filepath.Join(nodeDir, "package-lock.json"))
	require.NoError(t, err, "bench/node/package-lock.json")
	var lock nodeLock
	require.NoError(t, json.Unmarshal(data, &lock), "bench/node/package-lock.json")
	for _, pkg := range nodePackages {
		pinned, ok := lock.Packages["node_modules/"+pkg]
		if !ok {
			t.Fatalf("parity: bench/node/package-lock.json does not pin %s; add it to package.json and run `npm install --prefix bench/node`", pkg)
		}
		data, err := os.ReadFile(filepath.Join(nodeDir, "node_modules", pkg, "package.json"))
		if errors.Is(err, os.ErrNotExist) {
			t.Fatalf("parity: npm package %s is not installed in bench/node; %s", pkg, nodeInstallHint)
		}
		require.NoError(t, err)
		var installed struct {
			Version string `json:"version"`
		}
		require.NoError(t, json.Unmarshal(data, &installed), "%s/package.json", pkg)
		if installed.Version != pinned.Version {
			t.Fatalf("parity: bench/node has %s %s installed, the lockfile pins %s; %s", pkg, installed.Version, pinned.Version, nodeInstallHint)
		}
	}
	return node
}

// TestParity_NodePinned checks bench/node/package.json against its
// lockfile: exact versions, resolved as pinned, and installed.
func TestParity_NodePinned(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(nodeDir, "package.json"))
	require.NoError(t, err)
	var manifest struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	require.NoError(t, json.Unmarshal(data, &manifest), "package.json")
	require.Len(t, manifest.Dependencies, len(nodePackages), "bench/node/package.json dependencies")
	data, err = os.ReadFile(filepath.Join(nodeDir, "package-lock.json"))
	require.NoError(t, err)
	var lock nodeLock
	require.NoError(t, json.Unmarshal(data, &lock))
	exact := regexp.MustCompile(`^\d+\.\d+\.\d+$`)
	for _, pkg := range nodePackages {
		want := manifest.Dependencies[pkg]
		assert.Regexpf(t, exact, want, "package.json must pin %s to an exact version", pkg)
		assert.Equalf(t, want, lock.Packages["node_modules/"+pkg].Version, "package-lock.json must resolve %s to the pinned version", pkg)
		assert.Equalf(t, want, lock.Packages[""].Dependencies[pkg], "package-lock.json's copy of package.json pins %s (stale lockfile?)", pkg)
	}
	assert.Equal(t, "4.8.4", manifest.Dependencies["socket.io"], "the reference server is socket.io 4.8.4")
	requireNodeServer(t)
}

var nodeListening = regexp.MustCompile(`^listening (127\.0\.0\.1:[0-9]+)\n$`)

// startNode runs bench/node/server.js with PORT=0 until the test ends and
// returns its address. At the end it sends SIGTERM and requires exit
// status 0 and nothing on stdout but the listening line.
func startNode(t *testing.T) string {
	t.Helper()
	node := requireNodeServer(t)
	cmd := exec.Command(node, filepath.Join(nodeDir, "server.js"))
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k != "PORT" && k != "REDIS_URL" && k != "BENCH_REDIS_PREFIX" {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "PORT=0")
	var stderr bytes.Buffer // written by exec until Wait returns
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())

	first := make(chan string, 1)
	var rest []byte
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		r := bufio.NewReader(stdout)
		line, _ := r.ReadString('\n')
		first <- line
		rest, _ = io.ReadAll(r)
	}()
	exited := false
	t.Cleanup(func() {
		if !exited {
			_ = cmd.Process.Kill()
			<-readDone
			_ = cmd.Wait()
		}
	})
	var line string
	select {
	case line = <-first:
	case <-time.After(deadline):
		t.Fatal("parity: the Node server printed no listening line in time")
	}
	m := nodeListening.FindStringSubmatch(line)
	if m == nil {
		_ = cmd.Process.Kill()
		<-readDone
		_ = cmd.Wait()
		exited = true
		t.Fatalf("parity: the Node server's first line is %q, not \"listening 127.0.0.1:<port>\"; stderr:\n%s", line, stderr.String())
	}
	t.Cleanup(func() {
		if exited {
			return
		}
		require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
		select {
		case <-readDone:
		case <-time.After(deadline):
			t.Errorf("parity: the Node server still runs %v after SIGTERM", deadline)
			return // the first cleanup kills it
		}
		err := cmd.Wait()
		exited = true
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Errorf("parity: wait for the Node server: %v", err)
			return
		}
		assert.Equal(t, 0, cmd.ProcessState.ExitCode(), "the Node server's exit status after SIGTERM; stderr:\n%s", stderr.String())
		assert.Empty(t, string(rest), "the Node server's stdout after the listening line")
	})
	return m[1]
}

// servers is one gosio server (run, in process) and one Node server.
type servers struct{ gosio, node string }

func startBoth(t *testing.T) servers {
	t.Helper()
	return servers{gosio: startServer(t, map[string]string{}), node: startNode(t)}
}

// twin is one client of each server, driven in lockstep.
type twin struct {
	t    *testing.T
	g, n *client
}

// sids matches the random session ids, the only part of a handshake that
// may differ.
var sids = regexp.MustCompile(`"sid":"[^"]+"`)

// maskSID replaces the sid's value, after checking there is one.
func maskSID(t *testing.T, frame string) string {
	t.Helper()
	require.Regexp(t, sids, frame)
	return sids.ReplaceAllString(frame, `"sid":"…"`)
}

// dialTwin connects one WebSocket client to each server and requires the
// Engine.IO open packet and the Socket.IO CONNECT answer to be identical
// but for the sids.
func dialTwin(t *testing.T, s servers) *twin {
	t.Helper()
	w := &twin{t: t}
	var opens, connects []string
	for _, addr := range []string{s.gosio, s.node} {
		conn, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/socket.io/?EIO=4&transport=websocket", nil)
		require.NoError(t, err)
		t.Cleanup(func() { _ = conn.Close() })
		c := &client{t: t, conn: conn}
		opens = append(opens, maskSID(t, c.readEngine()))
		c.sendText("0")
		connects = append(connects, maskSID(t, c.read()))
		if w.g == nil {
			w.g = c
		} else {
			w.n = c
		}
	}
	require.Equal(t, opens[0], opens[1], "Engine.IO open packet (sid masked): gosio, then Node")
	require.Equal(t, connects[0], connects[1], "Socket.IO CONNECT answer (sid masked): gosio, then Node")
	return w
}

// useTwins makes the twins report to the subtest t until it ends.
func useTwins(t *testing.T, ws ...*twin) {
	for _, w := range ws {
		parent := w.t
		w.t = t
		use(t, w.g, w.n)
		t.Cleanup(func() { w.t = parent })
	}
}

func (w *twin) sendText(frame string) {
	w.t.Helper()
	w.g.sendText(frame)
	w.n.sendText(frame)
}

func (w *twin) sendBinary(b []byte) {
	w.t.Helper()
	require.NoError(w.t, w.g.conn.WriteMessage(websocket.BinaryMessage, b))
	require.NoError(w.t, w.n.conn.WriteMessage(websocket.BinaryMessage, b))
}

func (w *twin) emit(event string, args ...string) {
	w.t.Helper()
	w.g.emit(event, args...)
	w.n.emit(event, args...)
}

func (w *twin) emitAck(event string, args ...string) int {
	w.t.Helper()
	id := w.g.emitAck(event, args...)
	require.Equal(w.t, id, w.n.emitAck(event, args...), "twins out of step")
	return id
}

// nextID reserves the next ack id on both clients.
func (w *twin) nextID() int {
	w.g.id++
	w.n.id++
	require.Equal(w.t, w.g.id, w.n.id, "twins out of step")
	return w.g.id
}

// same reads the next frame of each client, requires them to be equal,
// and returns it.
func (w *twin) same() string {
	w.t.Helper()
	g, n := w.g.read(), w.n.read()
	require.Equal(w.t, n, g, "frame from gosio (actual) vs Node (expected)")
	return g
}

// sameTicks reads n frames of each, requires them equal, and requires
// them to be ticks.
func (w *twin) sameTicks(n int) {
	w.t.Helper()
	for range n {
		assert.True(w.t, strings.HasPrefix(w.same(), `2["tick","`))
	}
}

// sync asks both for an echo and requires it to be the next frame: there
// was nothing before it.
func (w *twin) sync() {
	w.t.Helper()
	id := w.emitAck("bench:echo", `"sync"`)
	require.Equal(w.t, ackFrame(id, `["sync"]`), w.same())
}

func TestParity_PollingHandshake(t *testing.T) {
	s := startBoth(t)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr, Timeout: deadline}

	type answer struct {
		Status       int
		ContentType  string
		CacheControl string
		Body         string
	}
	do := func(method, url, body string) answer {
		t.Helper()
		req, err := http.NewRequest(method, url, strings.NewReader(body))
		require.NoError(t, err)
		if method == http.MethodPost {
			req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
		}
		res, err := hc.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return answer{res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Cache-Control"), string(b)}
	}
	session := func(addr string) []answer {
		base := "http://" + addr + "/socket.io/?EIO=4&transport=polling"
		open := do(http.MethodGet, base, "")
		m := regexp.MustCompile(`^0\{"sid":"([^"]+)"`).FindStringSubmatch(open.Body)
		require.NotNil(t, m, open.Body)
		sess := base + "&sid=" + m[1]
		open.Body = maskSID(t, open.Body)
		post := do(http.MethodPost, sess, "40")
		connect := do(http.MethodGet, sess, "")
		connect.Body = maskSID(t, connect.Body)
		echo := do(http.MethodPost, sess, `421["bench:echo","polling",{"n":1}]`)
		ack := do(http.MethodGet, sess, "")
		bye := do(http.MethodPost, sess, "1")
		return []answer{open, post, connect, echo, ack, bye}
	}
	g, n := session(s.gosio), session(s.node)
	assert.Equal(t, n, g, "polling answers of gosio (actual) vs Node (expected): open, POST 40, CONNECT, POST event, ack, POST close")
	assert.Contains(t, g[0].Body, `"upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`)
	assert.Equal(t, `431["polling",{"n":1}]`, g[4].Body)
}

func TestParity_WebSocketHandshake(t *testing.T) {
	s := startBoth(t)
	w := dialTwin(t, s) // compares open and CONNECT
	// What dialTwin compared is Node's default handshake.
	conn, _, err := websocket.DefaultDialer.Dial("ws://"+s.gosio+"/socket.io/?EIO=4&transport=websocket", nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	c := &client{t: t, conn: conn}
	assert.Equal(t, `0{"sid":"…","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`, maskSID(t, c.readEngine()))
	w.sync()
}

func TestParity_Echo(t *testing.T) {
	w := dialTwin(t, startBoth(t))
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"no arguments", nil},
		{"strings", []string{`""`, `"hello"`, `"with \"quotes\" and \\ and /"`, `"\n\t\r\b\f"`, "\"\\u0000\\u001f\x7f\""}},
		{"unicode", []string{`"é日本語🎉"`, "\"\u2028\u2029\"", `"\ud800"`, `"\udfff x"`}},
		{"numbers", []string{`0`, `-1`, `1.5`, `123.456`, `1e+21`, `1.5e-7`, `5e-324`, `1.7976931348623157e+308`, `9007199254740991`, `-0.000001`}},
		{"literals", []string{`true`, `false`, `null`}},
		{"objects", []string{`{}`, `{"b":1,"a":2}`, `{"nested":{"deep":{"deeper":[1,{"x":null}]}},"k":"v"}`, `{"1":"one","b":"x"}`, `{"":0,"é":1}`}},
		{"arrays", []string{`[]`, `[[],[[]]]`, `[1,"two",{"three":3},[4],null,true]`}},
		// Not {"_placeholder":true,...}: in a packet without attachments
		// gosio's parser refuses it and closes the connection, where Node
		// echoes the object (a documented, deliberate difference: see
		// socketio/parser's doc, Compatibility).
		{"placeholder-looking JSON", []string{`{"_placeholder":false,"num":0}`, `{"_placeholder":"true","num":0}`, `{"num":0}`}},
		{"long string", []string{`"` + strings.Repeat("abc", 30_000) + `"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			useTwins(t, w)
			id := w.emitAck("bench:echo", tc.args...)
			got := w.same()
			assert.Equal(t, ackFrame(id, "["+strings.Join(tc.args, ",")+"]"), got)
		})
	}
	t.Run("no ack asked, none sent", func(t *testing.T) {
		useTwins(t, w)
		w.emit("bench:echo", `"quiet"`, `{"a":1}`)
		w.sync()
	})
	t.Run("binary attachments", func(t *testing.T) {
		useTwins(t, w)
		bin0, bin1, bin2 := []byte{0, 1, 2, 255}, []byte("second\x00"), bytes.Repeat([]byte{0xAB}, 70_000)
		// Numbered out of order and nested, beside JSON that looks like a
		// placeholder: the ack renumbers in order of appearance.
		id := w.nextID()
		w.sendText(fmt.Sprintf(`53-%d["bench:echo",{"z":[1,{"_placeholder":true,"num":1}],"a":{"b":2}},{"_placeholder":true,"num":0},{"_placeholder":false,"num":0},"text",{"_placeholder":true,"num":2}]`, id))
		w.sendBinary(bin0)
		w.sendBinary(bin1)
		w.sendBinary(bin2)
		assert.Equal(t, fmt.Sprintf(`63-%d[{"z":[1,{"_placeholder":true,"num":0}],"a":{"b":2}},{"_placeholder":true,"num":1},{"_placeholder":false,"num":0},"text",{"_placeholder":true,"num":2}]`, id), w.same())
		assert.Equal(t, "bin:"+string(bin1), w.same())
		assert.Equal(t, "bin:"+string(bin0), w.same())
		assert.Equal(t, "bin:"+string(bin2), w.same())
	})
	t.Run("binary only", func(t *testing.T) {
		useTwins(t, w)
		id := w.nextID()
		w.sendText(fmt.Sprintf(`51-%d["bench:echo",{"_placeholder":true,"num":0}]`, id))
		w.sendBinary([]byte("only"))
		assert.Equal(t, fmt.Sprintf(`61-%d[{"_placeholder":true,"num":0}]`, id), w.same())
		assert.Equal(t, "bin:only", w.same())
	})
	t.Run("binary without ack", func(t *testing.T) {
		useTwins(t, w)
		w.sendText(`51-["bench:echo",{"_placeholder":true,"num":0}]`)
		w.sendBinary([]byte{7})
		w.sync()
	})
}

func TestParity_Broadcast(t *testing.T) {
	s := startBoth(t)
	a, b, c := dialTwin(t, s), dialTwin(t, s), dialTwin(t, s)
	for _, tc := range []struct {
		name    string
		payload string
		count   int
	}{
		{"count=3 size=5", `{"count":3,"size":5}`, 3},
		{"size=0", `{"count":2,"size":0}`, 2},
		{"integral floats and extra members", `{"size":3e0,"count":2.0,"other":[1]}`, 2},
		{"duplicate member, last wins", `{"count":-1,"count":1,"size":4}`, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			useTwins(t, a, b, c)
			id := a.emitAck("bench:broadcast", tc.payload)
			// The sender gets its ticks, then the ack.
			a.sameTicks(tc.count)
			assert.Equal(t, ackFrame(id, fmt.Sprintf(`[{"count":%d}]`, tc.count)), a.same())
			for _, w := range []*twin{b, c} {
				w.sameTicks(tc.count)
				w.sync() // and not one more
			}
		})
	}
	for _, payload := range []string{`{"count":0,"size":5}`, `{"count":-0,"size":1048576}`} {
		t.Run("no ticks "+payload, func(t *testing.T) {
			useTwins(t, a, b, c)
			id := b.emitAck("bench:broadcast", payload)
			assert.Equal(t, ackFrame(id, `[{"count":0}]`), b.same())
			a.sync()
			c.sync()
		})
	}
	t.Run("no ack asked, none sent", func(t *testing.T) {
		useTwins(t, a, b, c)
		c.emit("bench:broadcast", `{"count":3,"size":1}`)
		for _, w := range []*twin{a, b, c} {
			w.sameTicks(3)
			w.sync()
		}
	})
}

func TestParity_Room(t *testing.T) {
	s := startBoth(t)
	a, b, c := dialTwin(t, s), dialTwin(t, s), dialTwin(t, s)

	id := a.emitAck("bench:join", `"r1"`)
	assert.Equal(t, ackFrame(id, `["r1"]`), a.same())
	id = b.emitAck("bench:join", `"r1"`, `"ignored"`)
	assert.Equal(t, ackFrame(id, `["r1"]`), b.same())
	c.emit("bench:join", `"r2"`) // no ack asked: none sent
	c.sync()
	id = c.emitAck("bench:join", `""`)
	assert.Equal(t, ackFrame(id, `[""]`), c.same())
	id = c.emitAck("bench:join", `"é \"q\""`)
	assert.Equal(t, ackFrame(id, `["é \"q\""]`), c.same())

	// A non-member sends to r1: the members get the ticks, the sender
	// only its ack.
	id = c.emitAck("bench:room", `{"room":"r1","count":3,"size":2}`)
	assert.Equal(t, ackFrame(id, `[{"count":3}]`), c.same())
	a.sameTicks(3)
	b.sameTicks(3)
	a.sync()
	b.sync()

	// r2 holds c only; so does the empty room.
	for _, r := range []string{`"r2"`, `""`} {
		id = a.emitAck("bench:room", `{"count":2,"size":4,"room":`+r+`}`)
		assert.Equal(t, ackFrame(id, `[{"count":2}]`), a.same())
		c.sameTicks(2)
		c.sync()
		b.sync()
	}

	// After leaving, b gets nothing; a member sender gets its own ticks.
	id = b.emitAck("bench:leave", `"r1"`)
	assert.Equal(t, ackFrame(id, `["r1"]`), b.same())
	id = b.emitAck("bench:leave", `"never joined"`)
	assert.Equal(t, ackFrame(id, `["never joined"]`), b.same())
	c.emit("bench:leave", `"r2"`)
	c.sync()
	id = a.emitAck("bench:room", `{"room":"r1","count":2,"size":1}`)
	a.sameTicks(2)
	assert.Equal(t, ackFrame(id, `[{"count":2}]`), a.same())
	b.sync()
	id = b.emitAck("bench:room", `{"room":"r2","count":5,"size":1}`)
	assert.Equal(t, ackFrame(id, `[{"count":5}]`), b.same())
	c.sync()

	// Without ack.
	b.emit("bench:room", `{"room":"r1","count":1,"size":3}`)
	a.sameTicks(1)
	a.sync()
	b.sync()
	c.sync()
}

func TestParity_InvalidPayloads(t *testing.T) {
	s := startBoth(t)
	c, other := dialTwin(t, s), dialTwin(t, s)
	id := other.emitAck("bench:join", `"r"`)
	assert.Equal(t, ackFrame(id, `["r"]`), other.same())

	for _, tc := range []struct {
		name  string
		event string
		args  []string
		want  string
	}{
		{"no payload", "bench:broadcast", nil, errPayload},
		{"string", "bench:broadcast", []string{`"x"`}, errPayload},
		{"null", "bench:broadcast", []string{`null`}, errPayload},
		{"array", "bench:broadcast", []string{`[1,2]`}, errPayload},
		{"empty array", "bench:room", []string{`[]`}, errPayload},
		{"number", "bench:room", []string{`5`}, errPayload},
		{"true", "bench:broadcast", []string{`true`}, errPayload},
		{"count missing", "bench:broadcast", []string{`{"size":1}`}, errCount},
		{"empty object", "bench:broadcast", []string{`{}`}, errCount},
		{"count in capitals", "bench:broadcast", []string{`{"COUNT":1,"size":1}`}, errCount},
		{"count negative", "bench:broadcast", []string{`{"count":-1,"size":1}`}, errCount},
		{"count too large", "bench:broadcast", []string{`{"count":1000001,"size":1}`}, errCount},
		{"count not integral", "bench:broadcast", []string{`{"count":1.5,"size":1}`}, errCount},
		{"count just above the limit", "bench:broadcast", []string{`{"count":1000000.5,"size":1}`}, errCount},
		{"count string", "bench:broadcast", []string{`{"count":"5","size":1}`}, errCount},
		{"count null", "bench:broadcast", []string{`{"count":null,"size":1}`}, errCount},
		{"count true", "bench:broadcast", []string{`{"count":true,"size":1}`}, errCount},
		{"count array", "bench:broadcast", []string{`{"count":[1],"size":1}`}, errCount},
		{"count object", "bench:broadcast", []string{`{"count":{},"size":1}`}, errCount},
		{"count overflow", "bench:broadcast", []string{`{"count":1e400,"size":1}`}, errCount},
		{"count duplicate, last wins", "bench:broadcast", []string{`{"count":1,"count":-1,"size":1}`}, errCount},
		{"size missing", "bench:broadcast", []string{`{"count":1}`}, errSize},
		{"size too large", "bench:broadcast", []string{`{"count":1,"size":1048577}`}, errSize},
		{"size negative", "bench:broadcast", []string{`{"count":1,"size":-2}`}, errSize},
		{"size not integral", "bench:broadcast", []string{`{"count":1,"size":0.5}`}, errSize},
		{"size string", "bench:broadcast", []string{`{"count":1,"size":"1"}`}, errSize},
		{"both wrong: count first", "bench:broadcast", []string{`{"count":-1,"size":-1}`}, errCount},
		{"room missing", "bench:room", []string{`{"count":1,"size":1}`}, errRoom},
		{"room number", "bench:room", []string{`{"room":1,"count":1,"size":1}`}, errRoom},
		{"room array", "bench:room", []string{`{"room":["r"],"count":1,"size":1}`}, errRoom},
		{"room first", "bench:room", []string{`{"room":null,"count":-1,"size":1}`}, errRoom},
		{"room count", "bench:room", []string{`{"room":"r","count":2e6,"size":1}`}, errCount},
		{"room size", "bench:room", []string{`{"room":"r","count":1,"size":"1"}`}, errSize},
		{"room payload not an object", "bench:room", []string{`"r"`}, errPayload},
		{"join number", "bench:join", []string{`5`}, errRoom},
		{"join nothing", "bench:join", nil, errRoom},
		{"join null", "bench:join", []string{`null`}, errRoom},
		{"join object", "bench:join", []string{`{"room":"r"}`}, errRoom},
		{"leave object", "bench:leave", []string{`{"room":"r"}`}, errRoom},
		{"leave nothing", "bench:leave", nil, errRoom},
		{"leave array", "bench:leave", []string{`["r"]`}, errRoom},
	} {
		t.Run(tc.name, func(t *testing.T) {
			useTwins(t, c, other)
			id := c.emitAck(tc.event, tc.args...)
			assert.Equal(t, ackFrame(id, `[{"error":`+strconv.Quote(tc.want)+`}]`), c.same())
			// Without ack: nothing at all.
			c.emit(tc.event, tc.args...)
			c.sync()
			other.sync() // no tick reached anyone
		})
	}
	t.Run("binary payload", func(t *testing.T) {
		useTwins(t, c, other)
		for _, event := range []string{"bench:broadcast", "bench:room", "bench:join", "bench:leave"} {
			id := c.nextID()
			c.sendText(fmt.Sprintf(`51-%d[%q,{"_placeholder":true,"num":0}]`, id, event))
			c.sendBinary([]byte("bin"))
			got := c.same()
			assert.True(t, strings.HasPrefix(got, ackFrame(id, `[{"error":`)), "%s: %s", event, got)
		}
		other.sync()
	})
}
