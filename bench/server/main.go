// Command server is the gosio side of the benchmark: a Socket.IO server
// with the default options of the Node.js socket.io 4.8 server and a few
// "bench:" events, which a load generator drives. The events are specified
// below precisely enough for a reference server on Node's socket.io to
// answer them byte for byte, so that the two can be measured side by side.
//
//	go run ./bench/server
//	PORT=3001 NATS_URL=nats://127.0.0.1:4222 go run ./bench/server
//
// # Environment
//
//	PORT               TCP port, on 127.0.0.1 only. Default 3000; 0 picks a
//	                   free port (see the "listening" log line). Anything
//	                   but a decimal number from 0 to 65535 is refused.
//	NATS_URL           if set, the NATS server(s) of a cluster (nats.go URL,
//	                   comma-separated list allowed): the server uses the NATS
//	                   adapter (adapter/nats), and every copy started with the
//	                   same NATS_URL and prefix serves the same clients.
//	                   Unset or empty: the in-memory adapter, one process.
//	BENCH_NATS_PREFIX  NATS subject prefix of the cluster. Default "bench".
//	BENCH_CPUPROFILE   if set, a file to write a pprof CPU profile of the
//	                   whole run to (the process id is appended:
//	                   "cpu.prof.1234"), for the profiles of bench/RESULTS.md.
//	BENCH_MEMPROFILE   if set, a file to write a pprof heap profile to when
//	                   the shutdown starts, while every client is still
//	                   connected (the process id is appended).
//
// The Socket.IO server is mounted at /socket.io/ with every option at its
// default (Node's): WebSocket and HTTP long-polling with upgrades,
// pingInterval 25 s, pingTimeout 20 s, maxHttpBufferSize 1e6, no CORS, no
// compression, no connection state recovery. Logs are slog text on
// stderr; once the listener is open the server logs the line
//
//	level=INFO msg=listening addr=127.0.0.1:3000
//
// SIGINT or SIGTERM shuts down: the Socket.IO server (clients disconnected
// with "server shutting down"), the HTTP server, then the NATS connection
// (drained), within 10 s; the exit status is then 0. A failure to start
// (bad PORT, port busy, NATS unreachable) exits with status 1.
//
// # Events
//
// All events are on the main namespace "/". An event acknowledges only
// when the client asked for an ack (the packet has an id); without one the
// event does its work, if any, and sends nothing back. An invalid payload
// is acknowledged (if an ack was asked for) with one object
// {"error": message} and nothing else happens. Payloads are the event's
// first argument; further arguments are ignored.
//
//	bench:echo  args...
//	    ack: exactly the received arguments, in order, any number of them,
//	    binary attachments included (a BINARY_ACK carrying the same bytes,
//	    with placeholders where the event had them, numbered in order of
//	    appearance). JSON is passed through as received: object key order,
//	    number spelling and string escapes are kept. (Node parses and
//	    re-serializes: send JSON in JSON.stringify's form — no "1.0", no
//	    needless escapes, no integer-like keys after others — and both
//	    answer with the same bytes.)
//
//	bench:broadcast  {"count": C, "size": S}
//	    emits C events ["tick", "xxx…"] (a string of S ASCII "x") to every
//	    socket of "/" (the sender included; with NATS, on every server),
//	    one after another, then acks {"count": C}.
//
//	bench:room  {"room": R, "count": C, "size": S}
//	    like bench:broadcast, to the sockets in room R only.
//
//	bench:join  R      joins room R; ack: R (the string).
//	bench:leave  R     leaves room R; ack: R.
//
// Validation, in this order, the first failure giving the error message:
//
//	payload not a JSON object          "payload must be an object"
//	room not a string (bench:room)     "room must be a string"
//	count not an integer in [0, 1e6]   "count must be an integer from 0 to 1000000"
//	size not an integer in [0, 2^20]   "size must be an integer from 0 to 1048576"
//	R not a string (join, leave)       "room must be a string"
//
// An integer is a JSON number with an integral value (3, 3.0 and 3e0 are
// the same; JavaScript's Number.isInteger); a missing member, a string or
// null is not one. Member names are case-sensitive; a duplicate member
// counts with its last value (JSON.parse).
//
// When an emit of the loop fails — with NATS: the tick does not fit in the
// NATS server's max_payload (1 MB by default, so size near 1 MiB fails),
// or NATS is not connected — the loop stops, this server's sockets have
// received that tick, and the ack is {"error": "emit N of C failed: …"}
// (N counted from 1).
//
// # Memory
//
// The emit loop runs in the sender's event handler, as in Node: that one
// socket handles nothing else until it ends; the other sockets are not
// delayed. Each tick is encoded once per emit, whatever the number of
// recipients, and queued on each recipient's connection. A client that
// does not read its ticks is disconnected ("slow consumer") when its send
// queue would pass engineio's MaxBufferedBytes (8 MiB by default): memory
// stays bounded, where Node's would grow. With NATS, the other servers
// receive the ticks through their subscription, whose pending limits
// (natsadapter.WithPendingLimits) drop what a server cannot keep up with.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	json "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/nats-io/nats.go"

	natsadapter "github.com/gosio/gosio/adapter/nats"
	"github.com/gosio/gosio/socketio"
)

const (
	defaultPort   = 3000
	defaultPrefix = "bench"
	// maxCount and maxSize bound bench:broadcast and bench:room.
	maxCount = 1_000_000
	maxSize  = 1 << 20
	// shutdownTimeout bounds the whole shutdown.
	shutdownTimeout = 10 * time.Second
)

// The error messages of invalid payloads (see the package doc).
const (
	errPayload = "payload must be an object"
	errRoom    = "room must be a string"
)

var (
	errCount = fmt.Sprintf("count must be an integer from 0 to %d", maxCount)
	errSize  = fmt.Sprintf("size must be an integer from 0 to %d", maxSize)
)

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	stopCPU, err := startCPUProfile(os.Getenv("BENCH_CPUPROFILE"))
	if err == nil {
		err = run(ctx, os.Getenv, logger, nil)
		err = errors.Join(err, stopCPU())
	}
	stop()
	if err != nil {
		logger.Error("bench server: exiting", "err", err)
		os.Exit(1)
	}
}

// run serves until ctx is done, then shuts down. It reads its
// configuration through getenv (os.Getenv in main) and calls ready, if
// not nil, with the listener's address once it accepts connections.
func run(ctx context.Context, getenv func(string) string, logger *slog.Logger, ready func(addr string)) error {
	port, err := parsePort(getenv("PORT"))
	if err != nil {
		return err
	}
	opts := &socketio.Options{Logger: logger}

	var nc *nats.Conn
	closed := make(chan struct{}) // closed when nc is
	if url := getenv("NATS_URL"); url != "" {
		prefix := getenv("BENCH_NATS_PREFIX")
		if prefix == "" {
			prefix = defaultPrefix
		}
		nc, err = natsadapter.Connect(url, logger,
			nats.Name("gosio-bench"),
			// A wrong URL is reported at once; later disconnections
			// are retried forever.
			nats.RetryOnFailedConnect(false),
			// natsadapter.Connect's handler, without the warning when
			// the connection is closed on purpose (the drain at
			// shutdown).
			nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
				if !nc.IsClosed() {
					logger.Warn("disconnected from NATS", "err", err)
				}
			}),
			nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
		if err != nil {
			return fmt.Errorf("bench server: %w", err)
		}
		opts.Adapter = natsadapter.New(nc, natsadapter.WithSubjectPrefix(prefix), natsadapter.WithLogger(logger))
		logger.Info("using the NATS adapter", "nats", nc.ConnectedUrlRedacted(), "prefix", prefix)
	}
	closeNATS := func(ctx context.Context) {
		if nc == nil {
			return
		}
		if err := nc.Drain(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			logger.Warn("NATS drain", "err", err)
		}
		select {
		case <-closed:
		case <-ctx.Done():
			logger.Warn("NATS drain not done at the shutdown deadline")
			nc.Close()
			<-closed
		}
	}

	srv, err := socketio.New(opts)
	if err != nil {
		closeNATS(context.Background())
		return fmt.Errorf("bench server: %w", err)
	}
	register(srv, logger)

	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		_ = srv.Close()
		closeNATS(context.Background())
		return fmt.Errorf("bench server: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelDebug)}
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()

	addr := ln.Addr().String()
	logger.Info("listening", "addr", addr)
	if ready != nil {
		ready(addr)
	}

	var failed error
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		failed = fmt.Errorf("bench server: serve: %w", err)
	}
	if err := writeHeapProfile(getenv("BENCH_MEMPROFILE")); err != nil {
		logger.Warn("heap profile", "err", err)
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		// Clients that did not take their leave in time (a polling
		// client gone without a word) have been cut: worth a warning,
		// not a failed exit.
		logger.Warn("clients cut at the shutdown deadline", "err", err)
	}
	if err := hs.Shutdown(sctx); err != nil {
		failed = errors.Join(failed, fmt.Errorf("bench server: http shutdown: %w", err))
	}
	if failed == nil {
		if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
			failed = fmt.Errorf("bench server: serve: %w", err)
		}
	}
	closeNATS(sctx)
	if failed != nil {
		return failed
	}
	logger.Info("stopped")
	return nil
}

// startCPUProfile starts a CPU profile to path plus "." and the process
// id, unless path is empty; the function it returns stops the profile.
func startCPUProfile(path string) (stop func() error, err error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(fmt.Sprintf("%s.%d", path, os.Getpid()))
	if err != nil {
		return nil, fmt.Errorf("bench server: cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("bench server: cpu profile: %w", err)
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}

// writeHeapProfile writes a heap profile, after a garbage collection, to
// path plus "." and the process id, unless path is empty.
func writeHeapProfile(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(fmt.Sprintf("%s.%d", path, os.Getpid()))
	if err != nil {
		return err
	}
	runtime.GC()
	return errors.Join(pprof.WriteHeapProfile(f), f.Close())
}

// parsePort reads PORT: empty means defaultPort.
func parsePort(s string) (int, error) {
	if s == "" {
		return defaultPort, nil
	}
	port, err := strconv.Atoi(s)
	if err != nil || port < 0 || port > 65535 || strings.TrimSpace(s) != s || strings.HasPrefix(s, "+") {
		return 0, fmt.Errorf("bench server: PORT=%q is not a port number (0 to 65535)", s)
	}
	return port, nil
}

// register installs the bench events on the main namespace.
func register(srv *socketio.Server, logger *slog.Logger) {
	srv.On("bench:echo", echo)
	srv.On("bench:broadcast", func(ctx context.Context, ev *socketio.Event) error {
		return fanout(ev, logger, false, srv)
	})
	srv.On("bench:room", func(ctx context.Context, ev *socketio.Event) error {
		return fanout(ev, logger, true, srv)
	})
	srv.On("bench:join", func(ctx context.Context, ev *socketio.Event) error {
		return room(ev, func(s *socketio.Socket, r string) { s.Join(r) })
	})
	srv.On("bench:leave", func(ctx context.Context, ev *socketio.Event) error {
		return room(ev, func(s *socketio.Socket, r string) { s.Leave(r) })
	})
}

// echo acks with the event's arguments as received, byte for byte.
func echo(_ context.Context, ev *socketio.Event) error {
	if !ev.HasAck() {
		return nil
	}
	return ev.Ack(ev.Args()...)
}

// ackError acks {"error": msg} if the client asked for an ack.
func ackError(ev *socketio.Event, msg string) error {
	if !ev.HasAck() {
		return nil
	}
	return ev.Ack(map[string]string{"error": msg})
}

// room handles bench:join and bench:leave.
func room(ev *socketio.Event, do func(s *socketio.Socket, room string)) error {
	raw := jsontext.Value(ev.Raw(0))
	if raw.Kind() != '"' {
		return ackError(ev, errRoom)
	}
	var r string
	if err := ev.Scan(&r); err != nil {
		return ackError(ev, errRoom)
	}
	do(ev.Socket(), r)
	if !ev.HasAck() {
		return nil
	}
	return ev.Ack(r)
}

// fanout handles bench:broadcast (inRoom false: emit to every socket of
// "/") and bench:room (inRoom true: emit to the payload's room).
func fanout(ev *socketio.Event, logger *slog.Logger, inRoom bool, srv *socketio.Server) error {
	raw := jsontext.Value(ev.Raw(0))
	if raw.Kind() != '{' {
		return ackError(ev, errPayload)
	}
	var members map[string]jsontext.Value
	if err := ev.Scan(&members); err != nil {
		return ackError(ev, errPayload)
	}
	emit := srv.Emit
	if inRoom {
		r, ok := members["room"]
		var name string
		if !ok || r.Kind() != '"' || json.Unmarshal(r, &name) != nil {
			return ackError(ev, errRoom)
		}
		emit = srv.To(name).Emit
	}
	count, ok := integer(members["count"], maxCount)
	if !ok {
		return ackError(ev, errCount)
	}
	size, ok := integer(members["size"], maxSize)
	if !ok {
		return ackError(ev, errSize)
	}
	tick := strings.Repeat("x", size)
	for i := range count {
		if err := emit("tick", tick); err != nil {
			logger.Warn("bench: emit failed", "event", ev.Name(), "n", i+1, "count", count, "err", err)
			return ackError(ev, fmt.Sprintf("emit %d of %d failed: %v", i+1, count, err))
		}
	}
	if !ev.HasAck() {
		return nil
	}
	return ev.Ack(map[string]int{"count": count})
}

// integer reads a JSON number with an integral value in [0, limit].
func integer(raw jsontext.Value, limit int) (int, bool) {
	if raw.Kind() != '0' {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || f != math.Trunc(f) || f < 0 || f > float64(limit) {
		return 0, false
	}
	return int(f), true
}
