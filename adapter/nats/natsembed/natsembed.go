// Package natsembed runs a NATS server inside the process: the zero-setup
// backbone for development, tests and single-machine clusters of the NATS
// adapter. Production points the adapter at a NATS cluster instead.
//
// By default the server opens no network listener at all: only this
// process can connect, through [Server.Connect] (RELIABILITY row 39: an
// embedded server has no authentication configured, so it must not be
// reachable from outside unless asked for). Options.Addr adds a TCP
// listener, on a loopback address unless AllowNonLoopback is set, for
// other processes of the same machine. Cluster routes, gateways, leaf
// nodes and JetStream are never enabled here.
//
// It is a separate package so that programs bringing their own NATS do
// not link the server.
package natsembed

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// Options configures the embedded server. The zero value (or nil) means:
// no network listener, NATS's defaults for everything else (1 MB maximum
// payload).
type Options struct {
	// Addr, if set, is a TCP address for NATS clients of other processes,
	// e.g. "127.0.0.1:4222", or "127.0.0.1:0" for a free port (see
	// [Server.ClientURL]). Default: no listener.
	Addr string
	// AllowNonLoopback allows Addr on an interface other than loopback.
	// The server has no authentication: only set it on a trusted network.
	AllowNonLoopback bool
	// MaxPayload is the largest message the server accepts, in bytes.
	// Default 1 MB (NATS's default).
	MaxPayload int32
	// ReadyTimeout bounds the wait for the server to accept connections.
	// Default 10 s.
	ReadyTimeout time.Duration
	// Logger receives the server's logs (notices at Info, warnings at
	// Warn, errors at Error; debug and trace are off). Default: no logs.
	Logger *slog.Logger
}

// ErrNonLoopback is returned by Start for an Addr that is not a loopback
// address, unless Options.AllowNonLoopback is set.
var ErrNonLoopback = errors.New("natsembed: refusing a non-loopback listener without AllowNonLoopback")

// Server is an embedded NATS server. It is safe for concurrent use.
type Server struct {
	ns *server.Server
}

// Start starts an embedded NATS server and waits until it accepts
// connections.
func Start(o *Options) (*Server, error) {
	if o == nil {
		o = &Options{}
	}
	so := &server.Options{
		ServerName: "gosio-embedded-" + strconv.FormatInt(time.Now().UnixNano(), 36),
		DontListen: true,
		NoSigs:     true,
		NoLog:      o.Logger == nil,
		MaxPayload: o.MaxPayload,
	}
	if o.Addr != "" {
		host, portStr, err := net.SplitHostPort(o.Addr)
		if err != nil {
			return nil, fmt.Errorf("natsembed: Addr %q: %w", o.Addr, err)
		}
		port, err := strconv.Atoi(portStr)
		if err != nil || port < 0 || port > 65535 {
			return nil, fmt.Errorf("natsembed: Addr %q: bad port", o.Addr)
		}
		if !o.AllowNonLoopback && !isLoopback(host) {
			return nil, fmt.Errorf("%w: %q", ErrNonLoopback, o.Addr)
		}
		if port == 0 {
			port = server.RANDOM_PORT
		}
		so.DontListen, so.Host, so.Port = false, host, port
	}
	ns, err := server.NewServer(so)
	if err != nil {
		return nil, fmt.Errorf("natsembed: %w", err)
	}
	if o.Logger != nil {
		ns.SetLoggerV2(&slogLogger{l: o.Logger.With("component", "nats-server")}, false, false, false)
	}
	ns.Start()
	ready := o.ReadyTimeout
	if ready <= 0 {
		ready = 10 * time.Second
	}
	if !ns.ReadyForConnections(ready) {
		ns.Shutdown()
		ns.WaitForShutdown()
		return nil, fmt.Errorf("natsembed: server not ready within %v", ready)
	}
	return &Server{ns: ns}, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Connect opens a client connection to the server, in-process (no
// network), with the given nats.go options. The connection handshake may
// take up to 10 s (nats.go's default, 2 s, is short for a loaded machine:
// the server runs in this process), unless opts set nats.Timeout.
func (s *Server) Connect(opts ...nats.Option) (*nats.Conn, error) {
	opts = append([]nats.Option{nats.InProcessServer(s.ns), nats.Timeout(10 * time.Second)}, opts...)
	nc, err := nats.Connect("", opts...)
	if err != nil {
		return nil, fmt.Errorf("natsembed: connect: %w", err)
	}
	return nc, nil
}

// ClientURL returns the URL other processes connect to, or "" when the
// server has no listener (the default).
func (s *Server) ClientURL() string {
	if s.ns.Addr() == nil {
		return ""
	}
	return s.ns.ClientURL()
}

// NATS returns the underlying nats-server, for what this package does not
// wrap (monitoring, statistics).
func (s *Server) NATS() *server.Server { return s.ns }

// Shutdown stops the server, closing every client connection, and waits
// until it is down. It is idempotent.
func (s *Server) Shutdown() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}

// slogLogger adapts nats-server's logger interface to slog.
type slogLogger struct{ l *slog.Logger }

func (g *slogLogger) Noticef(format string, v ...any) { g.l.Info(fmt.Sprintf(format, v...)) }
func (g *slogLogger) Warnf(format string, v ...any)   { g.l.Warn(fmt.Sprintf(format, v...)) }
func (g *slogLogger) Fatalf(format string, v ...any)  { g.l.Error(fmt.Sprintf(format, v...)) }
func (g *slogLogger) Errorf(format string, v ...any)  { g.l.Error(fmt.Sprintf(format, v...)) }
func (g *slogLogger) Debugf(format string, v ...any)  { g.l.Debug(fmt.Sprintf(format, v...)) }
func (g *slogLogger) Tracef(format string, v ...any)  { g.l.Debug(fmt.Sprintf(format, v...)) }
