package conformance

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/gosio/engineio"
	"github.com/gosio/gosio/internal/leakcheck"
)

// The engine.io-client scenarios. Payload constants must match those in
// scripts/engineio_client.cjs.
const (
	engineIOScript = "scripts/engineio_client.cjs"
	engineIOClient = "engine.io-client"

	helloText   = "hello"
	unicodeText = "héllo wörld 👋🌍 — ünïcødé ✓ 日本語"
	closeMeText = "close me"
	largeSize   = 500 * 1024 // bytes of the large text and binary messages
	welcomeText = "welcome"

	// A short ping interval, so that pings and pongs interleave with the
	// scenarios' traffic (and a broken heartbeat shows up as a close). The
	// timeout is generous on purpose: over long-polling a pong waits
	// behind a 500 KiB POST, and on a loaded machine running -race the
	// node process can stall for several hundred milliseconds; with a
	// 200ms timeout both made the tests flaky. The client's own deadline
	// is pingInterval+pingTimeout.
	pingInterval = 300 * time.Millisecond
	pingTimeout  = 5 * time.Second

	// closeWait bounds how long the server may take to report a close the
	// client has already seen.
	closeWait = 5 * time.Second
)

var pushBinary = []byte{0xde, 0xad}

// mode is one way for the client to connect, as in net/http's run(t, mode).
type mode struct {
	name       string
	transports []string
	initial    string // transport of the handshake
	upgrade    bool   // the client must upgrade to WebSocket
}

var modes = []mode{
	{name: "polling", transports: []string{"polling"}, initial: engineio.TransportPolling},
	{name: "websocket", transports: []string{"websocket"}, initial: engineio.TransportWebSocket},
	{name: "upgrade", transports: []string{"polling", "websocket"}, initial: engineio.TransportPolling, upgrade: true},
}

// scenario is one conformance scenario: what one Go test (or subtest) runs
// in each of its modes. The suites' tables of scenarios (engineIOSuite,
// socketIOSuite, recoverySuite, clusterSuite) are what the tests run and
// what README.md lists (report_test.go), so the two cannot drift apart.
type scenario struct {
	// test is the name of the Go test that runs the scenario, as t.Name()
	// reports it: "TestSocketIO_Acks", or "TestCluster/acks" for a
	// subtest of TestCluster. Each mode is a subtest of it.
	test   string
	covers string // what the scenario checks, for README.md
	modes  []mode
	run    func(t *testing.T, m mode)
}

// suite is one file's table of scenarios.
type suite struct {
	title     string // README.md's name for the suite
	file      string // the test file
	script    string // the client script the scenarios run
	scenarios []scenario
}

// runScenario runs the scenarios of the test t: the one named t.Name(), in
// each of its modes, or every scenario named t.Name()+"/"+sub, as subtest
// sub. It fails t if there is none, so that a test cannot run a scenario
// README.md does not list.
func runScenario(t *testing.T) {
	t.Helper()
	found := false
	for _, s := range suites() {
		for _, sc := range s.scenarios {
			if sc.test == t.Name() {
				found = true
				runModes(t, sc)
			} else if sub, ok := strings.CutPrefix(sc.test, t.Name()+"/"); ok {
				found = true
				t.Run(sub, func(t *testing.T) { runModes(t, sc) })
			}
		}
	}
	if !found {
		t.Fatalf("conformance: no scenario of %s in the suites' tables (see suites in report_test.go)", t.Name())
	}
}

// runModes runs sc as one subtest per mode.
func runModes(t *testing.T, sc scenario) {
	t.Helper()
	for _, m := range sc.modes {
		t.Run(m.name, func(t *testing.T) { sc.run(t, m) })
	}
}

// engineIOSuite is the table of the engine.io-client scenarios.
var engineIOSuite = suite{
	title:  "Engine.IO",
	file:   "engineio_test.go",
	script: engineIOScript,
	scenarios: []scenario{
		{test: "TestEngineIO_TextEcho", modes: modes, run: testEngineIOTextEcho,
			covers: "text messages (ASCII and non-ASCII) echoed back unchanged, in order"},
		{test: "TestEngineIO_BinaryEcho", modes: modes, run: testEngineIOBinaryEcho,
			covers: "binary messages, small and 500 KiB, echoed back as Buffers"},
		{test: "TestEngineIO_LargeText", modes: modes, run: testEngineIOLargeText,
			covers: "a 500 KiB text message echoed back"},
		{test: "TestEngineIO_ServerPush", modes: modes, run: testEngineIOServerPush,
			covers: "text and binary messages the server sends unprompted"},
		{test: "TestEngineIO_ServerClose", modes: modes, run: testEngineIOServerClose,
			covers: "Session.Close: \"transport close\" on the client, \"forced close\" on the server"},
		{test: "TestEngineIO_ClientClose", modes: modes, run: testEngineIOClientClose,
			covers: "socket.close() on the client: \"transport close\" on the server"},
	},
}

func TestEngineIO_TextEcho(t *testing.T) { runScenario(t) }

func testEngineIOTextEcho(t *testing.T, m mode) {
	res, sess := runEngineIO(t, m, "text_echo", behavior{onMessage: echo})

	want := []jsMessage{textMessage(helloText), textMessage(unicodeText)}
	assert.Equal(t, want, res.Sent, "client sent other payloads than the test expects (script out of sync?)")
	assert.Equal(t, want, res.Received, "client must receive its text messages back unchanged, in order")
	assert.Equal(t, want, sess.messageRecords(), "server must receive the client's text messages unchanged, in order")
	assertClientClosed(t, res)
	assertServerClose(t, sess, engineio.ReasonTransportClose)
}

func TestEngineIO_BinaryEcho(t *testing.T) { runScenario(t) }

func testEngineIOBinaryEcho(t *testing.T, m mode) {
	res, sess := runEngineIO(t, m, "binary_echo", behavior{onMessage: echo})

	require.Len(t, res.Sent, 2, "client must report two sent messages")
	assert.Equal(t, binaryMessage([]byte{1, 2, 3, 4}), res.Sent[0])
	assert.Equal(t, "binary", res.Sent[1].Type)
	assert.Equal(t, largeSize, res.Sent[1].Length)
	assert.Equal(t, res.Sent, res.Received, "client must receive identical bytes back, as binary messages (Buffer)")
	assert.Equal(t, res.Sent, sess.messageRecords(), "server must receive identical bytes, flagged binary")
	assertClientClosed(t, res)
	assertServerClose(t, sess, engineio.ReasonTransportClose)
}

func TestEngineIO_LargeText(t *testing.T) { runScenario(t) }

func testEngineIOLargeText(t *testing.T, m mode) {
	res, sess := runEngineIO(t, m, "large_text", behavior{onMessage: echo})

	require.Len(t, res.Sent, 1, "client must report one sent message")
	assert.Equal(t, "text", res.Sent[0].Type)
	assert.Equal(t, largeSize, res.Sent[0].Length)
	assert.Equal(t, res.Sent, res.Received, "client must receive the 500 KiB string back unchanged")
	assert.Equal(t, res.Sent, sess.messageRecords(), "server must receive the 500 KiB string unchanged, as text")
	assertClientClosed(t, res)
	assertServerClose(t, sess, engineio.ReasonTransportClose)
}

func TestEngineIO_ServerPush(t *testing.T) { runScenario(t) }

func testEngineIOServerPush(t *testing.T, m mode) {
	push := func(s *engineio.Session, rec *sessionRecord) {
		rec.noteError("Send", s.Send([]byte(welcomeText)))
		rec.noteError("SendBinary", s.SendBinary(slices.Clone(pushBinary)))
	}
	res, sess := runEngineIO(t, m, "server_push", behavior{onConnect: push})

	assert.Equal(t, []jsMessage{textMessage(welcomeText), binaryMessage(pushBinary)}, res.Received,
		"client must receive the pushed text then the pushed binary message")
	assert.Empty(t, sess.messageRecords(), "client sent nothing")
	assertClientClosed(t, res)
	assertServerClose(t, sess, engineio.ReasonTransportClose)
}

func TestEngineIO_ServerClose(t *testing.T) { runScenario(t) }

func testEngineIOServerClose(t *testing.T, m mode) {
	closeMe := func(s *engineio.Session, rec *sessionRecord, data []byte, binary bool) {
		if !binary && string(data) == closeMeText {
			rec.noteError("Close", s.Close())
		}
	}
	res, sess := runEngineIO(t, m, "server_close", behavior{onMessage: closeMe})

	assert.Equal(t, []jsMessage{textMessage(closeMeText)}, sess.messageRecords(), "server must receive \"close me\"")
	assert.Empty(t, res.Received, "server sent no message")
	if assert.NotNil(t, res.Close, "client must see a close event") {
		assert.Equal(t, "transport close", res.Close.Reason,
			"engine.io-client reports a server-initiated close as \"transport close\"")
	}
	assertServerClose(t, sess, engineio.ReasonForcedClose)
	sess.mu.Lock()
	defer sess.mu.Unlock()
	assert.NoError(t, sess.closeErr, "OnClose after Session.Close reports no error")
}

func TestEngineIO_ClientClose(t *testing.T) { runScenario(t) }

func testEngineIOClientClose(t *testing.T, m mode) {
	res, sess := runEngineIO(t, m, "client_close", behavior{})

	assert.Empty(t, res.Received, "server sent no message")
	assertClientClosed(t, res)
	assertServerClose(t, sess, engineio.ReasonTransportClose)
}

// runEngineIO starts a server with behavior b, runs the engine.io-client
// script for scenario in mode m, waits until the server has seen the session
// close, and returns both sides' observations after the checks that every
// scenario shares (one session, same sid, transports, upgrade, no errors).
// The server is shut down and checked for leaked goroutines when t ends.
func runEngineIO(t *testing.T, m mode, scenario string, b behavior) (*clientResult, *sessionRecord) {
	t.Helper()
	node := requireNode(t, engineIOClient)
	t.Cleanup(leakcheck.Check(t)) // registered first, so it runs after the server's shutdown
	srv := startEngineIO(t, b)

	transports, err := json.Marshal(m.transports)
	require.NoError(t, err)
	var res clientResult
	run := runScript(t, node, engineIOScript, &res,
		"--url="+srv.url,
		"--transports="+string(transports),
		"--scenario="+scenario,
		"--path="+srv.eio.Path(),
	)

	// The client's own verdict and anything it noticed on the way.
	assert.Truef(t, res.OK, "client script failed (exit code %d): %s", run.exitCode, res.Error)
	assert.Equal(t, 0, run.exitCode, "client script exit code")
	assert.Empty(t, res.Errors, "client \"error\" events")
	assert.Empty(t, res.UpgradeErrors, "client \"upgradeError\" events")
	assert.False(t, res.Lingered,
		"node stayed alive %v after the scenario ended: the server left a polling request or the connection open (handles are in the script's stderr)",
		scriptLinger)

	sess := srv.onlySession(t)
	select {
	case <-sess.closed:
	case <-time.After(closeWait):
		t.Fatalf("server: OnClose not called within %v after the client finished (client saw close: %+v)", closeWait, res.Close)
	}

	sess.mu.Lock()
	defer sess.mu.Unlock()
	assert.Equal(t, sess.id, res.SID, "client's sid must be the server session's ID()")
	assert.Equal(t, m.initial, sess.transport, "server: Session.Transport() in OnConnection")
	assert.Equal(t, m.initial, res.OpenTransport, "client: transport at \"open\"")
	assert.Empty(t, sess.errs, "server: errors from Session methods")
	final := m.initial
	if m.upgrade {
		final = engineio.TransportWebSocket
	}
	assert.Equal(t, final, sess.lastTrans, "server: Session.Transport() in OnClose")
	if m.upgrade {
		assert.Equal(t, []string{engineio.TransportWebSocket}, res.Upgrades, "client: \"upgrade\" events")
		assert.Equal(t, engineio.TransportWebSocket, res.FinalTransport, "client: transport when the socket closed")
		assert.Equal(t, []string{engineio.TransportWebSocket}, sess.upgrades, "server: OnUpgrade calls")
	} else {
		assert.Empty(t, res.Upgrades, "client: \"upgrade\" events")
		assert.Equal(t, m.initial, res.FinalTransport, "client: transport when the socket closed")
		assert.Empty(t, sess.upgrades, "server: OnUpgrade calls")
	}
	assert.Eventually(t, func() bool { return srv.eio.ClientsCount() == 0 }, time.Second, 10*time.Millisecond,
		"server: ClientsCount() must drop to 0 once the only session closed")
	return &res, sess
}

// assertClientClosed checks that the client closed the socket itself.
func assertClientClosed(t *testing.T, res *clientResult) {
	t.Helper()
	if assert.NotNil(t, res.Close, "client must see a close event") {
		assert.Equal(t, "forced close", res.Close.Reason, "engine.io-client's reason after socket.close()")
	}
}

// assertServerClose checks the reason the server's OnClose received.
func assertServerClose(t *testing.T, sess *sessionRecord, want engineio.Reason) {
	t.Helper()
	sess.mu.Lock()
	defer sess.mu.Unlock()
	assert.Equalf(t, want, sess.closeReason, "server: OnClose reason (err: %v)", sess.closeErr)
	if sess.closeErr != nil {
		t.Logf("server: OnClose(%q, %v)", sess.closeReason, sess.closeErr)
	}
}

// clientResult is the JSON line printed by scripts/engineio_client.cjs.
type clientResult struct {
	OK             bool        `json:"ok"`
	Error          string      `json:"error"`
	Step           string      `json:"step"`
	SID            string      `json:"sid"`
	OpenTransport  string      `json:"openTransport"`
	FinalTransport string      `json:"finalTransport"`
	Upgrades       []string    `json:"upgrades"`
	Sent           []jsMessage `json:"sent"`
	Received       []jsMessage `json:"received"`
	Close          *struct {
		Reason      string `json:"reason"`
		Description string `json:"description"`
	} `json:"close"`
	Errors        []string `json:"errors"`
	UpgradeErrors []string `json:"upgradeErrors"`
	Events        []string `json:"events"`
	Lingered      bool     `json:"lingered"`
}

// jsMessage describes one message the way the scripts report it (see
// describe in scripts/harness.cjs): small payloads in full, all by length
// and SHA-256 of their bytes (UTF-8 for text).
type jsMessage struct {
	Type   string `json:"type"`             // "text", "binary" or "other"
	JSType string `json:"jsType,omitempty"` // JS class of a binary message: "Buffer" in Node
	Length int    `json:"length"`
	SHA256 string `json:"sha256"`
	Data   string `json:"data,omitempty"` // text of at most smallMessage bytes
	Hex    string `json:"hex,omitempty"`  // binary of at most smallMessage bytes
}

// smallMessage is the size up to which the scripts report payloads in full.
const smallMessage = 256

func textMessage(s string) jsMessage {
	sum := sha256.Sum256([]byte(s))
	m := jsMessage{Type: "text", Length: len(s), SHA256: hex.EncodeToString(sum[:])}
	if len(s) <= smallMessage {
		m.Data = s
	}
	return m
}

// binaryMessage describes b as the Node client reports a binary message
// (a Buffer, since engine.io-client's default binaryType in Node is
// "nodebuffer").
func binaryMessage(b []byte) jsMessage {
	sum := sha256.Sum256(b)
	m := jsMessage{Type: "binary", JSType: "Buffer", Length: len(b), SHA256: hex.EncodeToString(sum[:])}
	if len(b) <= smallMessage {
		m.Hex = hex.EncodeToString(b)
	}
	return m
}

// behavior is the server side of a scenario. Both hooks run on the session's
// goroutines and must not block.
type behavior struct {
	onConnect func(s *engineio.Session, rec *sessionRecord)
	onMessage func(s *engineio.Session, rec *sessionRecord, data []byte, binary bool)
}

// echo sends every message back as it came, text or binary.
func echo(s *engineio.Session, rec *sessionRecord, data []byte, binary bool) {
	out := slices.Clone(data) // Send takes ownership; the record keeps data
	if binary {
		rec.noteError("SendBinary", s.SendBinary(out))
	} else {
		rec.noteError("Send", s.Send(out))
	}
}

// testEngineIO is an engineio.Server served over HTTP on 127.0.0.1.
type testEngineIO struct {
	url  string
	eio  *engineio.Server
	http *http.Server

	mu       sync.Mutex
	sessions []*sessionRecord
}

// sessionRecord is what the server observed of one session. The handlers
// write it under mu; closed is closed once OnClose has run.
type sessionRecord struct {
	mu          sync.Mutex
	id          string
	transport   string // at OnConnection
	lastTrans   string // at OnClose
	messages    []jsMessage
	upgrades    []string
	closeReason engineio.Reason
	closeErr    error
	errs        []string // errors returned by Session methods in handlers
	closed      chan struct{}
}

func (r *sessionRecord) messageRecords() []jsMessage {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.messages)
}

func (r *sessionRecord) noteError(op string, err error) {
	if err == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf("%s: %v", op, err))
}

// startEngineIO starts an Engine.IO server that records every session and
// runs b. It is shut down, and its goroutines awaited, when t ends.
func startEngineIO(t *testing.T, b behavior) *testEngineIO {
	t.Helper()
	eio, err := engineio.New(&engineio.Options{
		PingInterval: pingInterval,
		PingTimeout:  pingTimeout,
		Logger:       slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	require.NoError(t, err)
	ts := &testEngineIO{eio: eio}
	eio.OnConnection(func(s *engineio.Session) {
		rec := &sessionRecord{id: s.ID(), transport: s.Transport(), closed: make(chan struct{})}
		ts.mu.Lock()
		ts.sessions = append(ts.sessions, rec)
		ts.mu.Unlock()

		s.OnMessage(func(data []byte, binary bool) {
			m := textMessage(string(data))
			if binary {
				m = binaryMessage(data)
			}
			rec.mu.Lock()
			rec.messages = append(rec.messages, m)
			rec.mu.Unlock()
			if b.onMessage != nil {
				b.onMessage(s, rec, data, binary)
			}
		})
		s.OnUpgrade(func(transport string) {
			rec.mu.Lock()
			defer rec.mu.Unlock()
			rec.upgrades = append(rec.upgrades, transport)
		})
		s.OnClose(func(reason engineio.Reason, err error) {
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if rec.closeReason != "" {
				rec.errs = append(rec.errs, fmt.Sprintf("OnClose called twice: %q after %q", reason, rec.closeReason))
				return
			}
			rec.closeReason, rec.closeErr = reason, err
			rec.lastTrans = s.Transport()
			close(rec.closed)
		})
		if b.onConnect != nil {
			b.onConnect(s, rec)
		}
	})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ts.url = "http://" + ln.Addr().String()
	ts.http = &http.Server{Handler: eio, ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- ts.http.Serve(ln) }()

	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		assert.NoError(t, eio.Shutdown(ctx), "engineio.Server.Shutdown")
		assert.NoError(t, ts.http.Shutdown(ctx), "http.Server.Shutdown")
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("http.Server.Serve: %v", err)
		}
	})
	return ts
}

// onlySession returns the record of the one session the server saw.
func (ts *testEngineIO) onlySession(t *testing.T) *sessionRecord {
	t.Helper()
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ids := make([]string, len(ts.sessions))
	for i, s := range ts.sessions {
		ids[i] = s.id
	}
	require.Lenf(t, ts.sessions, 1, "server: want exactly one session (OnConnection calls), got ids %q", ids)
	return ts.sessions[0]
}
