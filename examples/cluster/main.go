// Command cluster serves the chat of examples/chat from several Socket.IO
// servers at once, joined into one cluster by the NATS adapter
// (adapter/nats): a browser on any of them talks to everyone, whichever
// server they use. Rooms, member lists (FetchSockets), messages, typing
// indicators and images cross servers.
//
//	go run ./examples/cluster
//
// starts an embedded NATS server, in-process only, and three chat servers
// at http://127.0.0.1:3001/, :3002 and :3003, one NATS connection each.
//
// The servers can also run as separate processes. One of them lends its
// embedded NATS server to the others, which connect to it:
//
//	go run ./examples/cluster -addrs 127.0.0.1:3001 -nats-listen 127.0.0.1:4222
//	go run ./examples/cluster -addrs 127.0.0.1:3002 -nats nats://127.0.0.1:4222
//
// or every process connects to a NATS server of its own (nats-server,
// started apart):
//
//	go run ./examples/cluster -addrs 127.0.0.1:3001 -nats nats://127.0.0.1:4222
//
// Images must fit in one NATS message: with an external NATS server whose
// max_payload is under 2 MiB (plus headroom), the largest image accepted
// is lowered to fit (the embedded server allows 4 MiB).
//
// SIGINT or SIGTERM shuts everything down in order: each Socket.IO server
// (disconnecting its clients and closing its adapter, which says goodbye
// to the cluster), its HTTP server, then the NATS connections (drained),
// then the embedded NATS server.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"

	natsadapter "github.com/gosio/gosio/adapter/nats"
	"github.com/gosio/gosio/adapter/nats/natsembed"
	"github.com/gosio/gosio/examples/chat/chatapp"
	"github.com/gosio/gosio/socketio"
)

const (
	// embeddedMaxPayload is the embedded NATS server's largest message:
	// room for a chatapp.MaxImageBytes image and its envelope.
	embeddedMaxPayload = 4 << 20
	// imageHeadroom is what a broadcast image needs beyond its bytes in a
	// NATS message (the cluster envelope, nick, file name, MIME type).
	imageHeadroom = 64 << 10
	// shutdownTimeout bounds the shutdown of the servers, drainTimeout
	// then that of the NATS connections.
	shutdownTimeout = 10 * time.Second
	drainTimeout    = 5 * time.Second
	// formTimeout bounds the wait for the local servers to see each other
	// at start-up.
	formTimeout = 10 * time.Second
)

// options configures run.
type options struct {
	addrs      []string // one chat server each
	natsURL    string   // external NATS; "" for the embedded one
	natsListen string   // the embedded NATS's listener; "" for none
	prefix     string   // NATS subject prefix of the cluster
	clientDir  string   // where socket.io.min.js is
	// onReady, if set, is called once every server listens and the local
	// servers see each other (tests).
	onReady func(ready)
}

// ready describes a running cluster.
type ready struct {
	URLs []string // each server's base URL, in the order of addrs
	NATS string   // the embedded NATS's URL for other processes, or ""
}

func main() {
	addrs := flag.String("addrs", "127.0.0.1:3001,127.0.0.1:3002,127.0.0.1:3003",
		"comma-separated listen addresses, one chat server each")
	natsURL := flag.String("nats", "",
		"URL(s) of an external NATS server (comma-separated); empty: start an embedded one")
	natsListen := flag.String("nats-listen", "",
		"loopback address where the embedded NATS server accepts other processes, e.g. 127.0.0.1:4222; empty: in-process only")
	prefix := flag.String("prefix", "chat", "NATS subject prefix, the same for every server of the cluster")
	clientDir := flag.String("client-dir", "conformance/node_modules/socket.io-client/dist", "directory holding socket.io.min.js")
	flag.Parse()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, options{
		addrs:      splitList(*addrs),
		natsURL:    *natsURL,
		natsListen: *natsListen,
		prefix:     *prefix,
		clientDir:  *clientDir,
	}, logger)
	if err != nil {
		logger.Error("cluster: exiting", "err", err)
		stop()
		os.Exit(1)
	}
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// node is one chat server of the cluster.
type node struct {
	addr   string
	log    *slog.Logger
	nc     *nats.Conn
	closed chan struct{} // closed when nc is
	srv    *socketio.Server
	hs     *http.Server
	ln     net.Listener
}

// cluster is what run started, torn down by shutdown.
type cluster struct {
	log   *slog.Logger
	bus   *natsembed.Server // nil with an external NATS
	nodes []*node
	serve sync.WaitGroup // the http.Servers' Serve loops
	errc  chan error     // a Serve loop that failed
}

// run starts the cluster, serves until ctx is done (or a server fails),
// then shuts everything down.
func run(ctx context.Context, o options, logger *slog.Logger) error {
	c, err := start(o, logger)
	if err != nil {
		return err
	}
	var failed error
	c.waitFormed(ctx)
	if ctx.Err() == nil {
		var r ready
		if c.bus != nil {
			r.NATS = c.bus.ClientURL()
		}
		for _, n := range c.nodes {
			r.URLs = append(r.URLs, "http://"+n.ln.Addr().String())
		}
		logger.Info("cluster: ready", "servers", strings.Join(r.URLs, " "))
		if r.NATS != "" {
			logger.Info("cluster: other processes may join", "nats", r.NATS,
				"example", "go run ./examples/cluster -nats "+r.NATS+" -addrs 127.0.0.1:3004")
		}
		if o.onReady != nil {
			o.onReady(r)
		}
		select {
		case <-ctx.Done():
		case failed = <-c.errc:
		}
	}
	logger.Info("cluster: shutting down")
	if err := c.shutdown(); err != nil {
		failed = errors.Join(failed, err)
	}
	if failed != nil {
		return failed
	}
	logger.Info("cluster: stopped")
	return nil
}

// start starts the NATS server (unless external), then each chat server;
// on error it tears down what it started.
func start(o options, logger *slog.Logger) (*cluster, error) {
	switch {
	case len(o.addrs) == 0:
		return nil, errors.New("cluster: no listen address")
	case o.natsURL != "" && o.natsListen != "":
		return nil, errors.New("cluster: -nats-listen applies to the embedded NATS server, not with -nats")
	}
	c := &cluster{log: logger, errc: make(chan error, len(o.addrs))}
	if o.natsURL == "" {
		bus, err := natsembed.Start(&natsembed.Options{Addr: o.natsListen, MaxPayload: embeddedMaxPayload})
		if err != nil {
			return nil, fmt.Errorf("cluster: embedded NATS: %w", err)
		}
		c.bus = bus
		logger.Info("cluster: embedded NATS started", "listening", bus.ClientURL() != "")
	}
	for _, addr := range o.addrs {
		n, err := c.startNode(o, addr)
		if err == nil {
			c.nodes = append(c.nodes, n)
			continue
		}
		if serr := c.shutdown(); serr != nil {
			err = errors.Join(err, serr)
		}
		return nil, err
	}
	return c, nil
}

// startNode starts one chat server: its NATS connection, its Socket.IO
// server with the NATS adapter, and its HTTP server.
func (c *cluster) startNode(o options, addr string) (n *node, err error) {
	n = &node{addr: addr, log: c.log.With("server", addr), closed: make(chan struct{})}
	defer func() {
		if err != nil {
			n.cleanupFailed()
		}
	}()
	// Listen first: a busy port is the likeliest failure.
	if n.ln, err = net.Listen("tcp", addr); err != nil {
		return n, fmt.Errorf("cluster: %w", err)
	}
	n.log = c.log.With("server", n.ln.Addr().String())

	natsOpts := []nats.Option{
		nats.Name("gosio-chat " + n.ln.Addr().String()),
		nats.ClosedHandler(func(*nats.Conn) { close(n.closed) }),
		// A wrong URL or a NATS server not started yet is reported at
		// once; later disconnections are retried forever.
		nats.RetryOnFailedConnect(false),
		// natsadapter.Connect's handler, except for the close at shutdown.
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			if !nc.IsClosed() {
				n.log.Warn("cluster: disconnected from NATS", "err", err)
			}
		}),
	}
	url := o.natsURL
	if c.bus != nil {
		url = ""
		natsOpts = append(natsOpts, nats.InProcessServer(c.bus.NATS()))
	}
	if n.nc, err = natsadapter.Connect(url, n.log, natsOpts...); err != nil {
		return n, fmt.Errorf("cluster: %w", err)
	}

	maxImage := chatapp.MaxImageBytes
	if fit := int(n.nc.MaxPayload()) - imageHeadroom; fit < maxImage {
		if fit < 1<<10 {
			return n, fmt.Errorf("cluster: NATS max_payload %d bytes is too small for the chat", n.nc.MaxPayload())
		}
		maxImage = fit
		n.log.Warn("cluster: NATS max_payload below 2 MiB: images limited", "max_payload", n.nc.MaxPayload(), "max_image_bytes", maxImage)
	}
	srv, handler, err := chatapp.NewHandler(&chatapp.Options{
		ClientDir:     o.clientDir,
		Logger:        n.log,
		MaxImageBytes: maxImage,
		Adapter: natsadapter.New(n.nc, natsadapter.WithSubjectPrefix(o.prefix),
			natsadapter.WithLogger(n.log)),
	})
	if err != nil {
		return n, fmt.Errorf("cluster: %w", err)
	}
	n.srv = srv
	n.hs = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	c.serve.Go(func() {
		if err := n.hs.Serve(n.ln); !errors.Is(err, http.ErrServerClosed) {
			c.errc <- fmt.Errorf("cluster: server %s: %w", addr, err)
		}
	})
	n.log.Info("cluster: chat server listening", "url", "http://"+n.ln.Addr().String()+"/")
	return n, nil
}

// cleanupFailed releases what a startNode that failed had opened.
func (n *node) cleanupFailed() {
	if n.srv != nil {
		_ = n.srv.Close()
	}
	if n.nc != nil {
		n.nc.Close()
	}
	if n.ln != nil {
		_ = n.ln.Close()
	}
}

// waitFormed waits, at most formTimeout, until each local server counts
// at least the local servers in the cluster: until then a member list
// could miss the members of a server not heard of yet.
func (c *cluster) waitFormed(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, formTimeout)
	defer cancel()
	want := len(c.nodes)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for _, n := range c.nodes {
		for {
			count, err := n.srv.ServerCount(ctx)
			if err == nil && count >= want {
				break
			}
			select {
			case <-tick.C:
			case <-ctx.Done():
				c.log.Warn("cluster: servers did not all see each other in time", "server", n.addr, "count", count, "want", want)
				return
			}
		}
	}
}

// shutdown stops everything start started, in order: each Socket.IO
// server (its clients disconnected, its adapter closed) then its HTTP
// server, the servers in parallel; then the NATS connections, drained;
// then the embedded NATS server. It returns the HTTP servers' errors.
func (c *cluster) shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, n := range c.nodes {
		wg.Go(func() {
			if err := n.srv.Shutdown(ctx); err != nil {
				// Clients that did not take their leave in time (a polling
				// client gone without a word) have been cut: worth a
				// warning, not a failed exit.
				n.log.Warn("cluster: clients cut at the shutdown deadline", "err", err)
			}
			if err := n.hs.Shutdown(ctx); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("cluster: server %s: %w", n.addr, err))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	c.serve.Wait()
	// The drains get a deadline of their own: a polling client that never
	// came back may have used up the servers' one.
	ctx, cancel = context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	for _, n := range c.nodes {
		if err := n.nc.Drain(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			n.log.Warn("cluster: NATS drain", "err", err)
		}
	}
	for _, n := range c.nodes {
		select {
		case <-n.closed:
		case <-ctx.Done():
			n.log.Warn("cluster: NATS drain not done at the shutdown deadline")
			n.nc.Close()
			<-n.closed
		}
	}
	if c.bus != nil {
		c.bus.Shutdown()
	}
	return errors.Join(errs...)
}
