// Package adapter defines how a Socket.IO namespace reaches its sockets:
// rooms, broadcasts, and the operations that may span several servers
// (fetchSockets, socketsJoin/Leave, disconnectSockets, serverSideEmit).
// It mirrors the Node.js socket.io-adapter API.
//
// The socketio package creates one [Adapter] per namespace through a
// [Factory]; the default, adapter/memory, serves a single process, and
// adapter/nats spreads a namespace over many servers. This package imports
// neither socketio nor any adapter, so adapters depend on it alone.
//
// # Concurrency
//
// Adapters are safe for concurrent use. They never call into a
// [LocalSocket] while holding their own locks, and LocalSocket methods
// never block, so a broadcast never waits for a slow client.
package adapter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/gosio/gosio/engineio"
	"github.com/gosio/gosio/socketio/parser"
)

// Adapter serves one namespace. Methods that may wait on other servers
// take a context; the others return at once.
type Adapter interface {
	// AddAll adds the local socket s to rooms (creating them as needed).
	AddAll(s LocalSocket, rooms ...string)
	// Del removes socket id from room.
	Del(id, room string)
	// DelAll removes socket id from every room and forgets it.
	DelAll(id string)
	// SocketRooms returns the rooms local socket id is in, or nil.
	SocketRooms(id string) []string
	// Rooms returns the names of the non-empty local rooms.
	Rooms() []string
	// Sockets returns the ids of the local sockets in any of rooms (all
	// local sockets when rooms is empty).
	Sockets(rooms ...string) []string

	// Broadcast sends p to every socket matched by opts, here and (unless
	// opts.Flags.Local) on the other servers. Local delivery always
	// happens; an error reports a failure to reach the other servers.
	Broadcast(p *parser.Packet, opts BroadcastOptions) error
	// BroadcastWithAck is Broadcast for a packet whose ack id is set: it
	// calls onCount with the number of sockets reached, once per server
	// (once in all with opts.Flags.Local), and onAck with every ACK packet
	// received, until ctx is done.
	BroadcastWithAck(ctx context.Context, p *parser.Packet, opts BroadcastOptions, onCount func(n int), onAck func(ack *parser.Packet)) error

	// FetchSockets returns the sockets matched by opts on every server.
	// On a timeout it returns what arrived together with a *PartialError.
	FetchSockets(ctx context.Context, opts BroadcastOptions) ([]SocketInfo, error)
	// AddSockets makes the sockets matched by opts join rooms.
	AddSockets(opts BroadcastOptions, rooms []string) error
	// DelSockets makes the sockets matched by opts leave rooms.
	DelSockets(opts BroadcastOptions, rooms []string) error
	// DisconnectSockets disconnects the sockets matched by opts, closing
	// their connection if close is true.
	DisconnectSockets(opts BroadcastOptions, close bool) error

	// ServerSideEmit sends an event (data is the JSON array [event,
	// args...]) to the other servers' namespaces.
	ServerSideEmit(data jsontext.Value, attachments [][]byte) error
	// ServerSideEmitWithAck is ServerSideEmit expecting one answer per
	// server; on a timeout it returns what arrived with a *PartialError.
	// With no other server it returns at once with no answer.
	ServerSideEmitWithAck(ctx context.Context, data jsontext.Value, attachments [][]byte) ([]Response, error)
	// ServerCount returns the number of servers serving the namespace,
	// this one included.
	ServerCount(ctx context.Context) (int, error)

	// PersistSession keeps a disconnected socket's session for connection
	// state recovery, for the namespace's RecoveryWindow.
	PersistSession(s *Session)
	// RestoreSession returns the session pid with the packets broadcast
	// to it after offset, and forgets it; nil (and no error) when it
	// cannot be restored: unknown, expired, or offset no longer held.
	RestoreSession(ctx context.Context, pid, offset string) (*Session, error)

	// Close releases the adapter (Node's ADAPTER_CLOSE for cluster
	// adapters). The namespace closes its adapter when the server shuts
	// down.
	Close() error
}

// Session is a disconnected socket kept for connection state recovery
// (Node's SessionToPersist plus the missed packets).
type Session struct {
	// SID is the socket id, PID its private id (the client's proof).
	SID, PID string
	Rooms    []string
	Data     any
	// MissedPackets are the EVENT packets broadcast to the socket after
	// the client's offset, in order, each with its offset as last
	// argument (RestoreSession only).
	MissedPackets []*parser.Packet
}

// Factory creates the adapter of a namespace.
type Factory func(ns Namespace) (Adapter, error)

// Namespace is what an adapter needs from the namespace it serves; the
// socketio package implements it.
type Namespace interface {
	// Name returns the namespace name, "/" for the main namespace.
	Name() string
	// ServerSideEvent delivers an event another server sent with
	// serverSideEmit. reply is nil unless the sender expects an answer; it
	// must be called at most once.
	ServerSideEvent(data jsontext.Value, attachments [][]byte, reply func(data jsontext.Value, attachments [][]byte))
	// RecoveryWindow returns how long a disconnected socket's session is
	// kept for connection state recovery; 0 when recovery is off. When it
	// is on, Broadcast appends an offset to every EVENT packet without ack
	// id that is not volatile, and keeps the packet for the window.
	RecoveryWindow() time.Duration
}

// LocalSocket is a socket connected to this server, as adapters see it;
// *socketio.Socket implements it. Its methods never block.
type LocalSocket interface {
	ID() string
	// Deliver queues an encoded packet. Volatile packets may be dropped
	// when the client is not ready to receive them.
	Deliver(p *Encoded, flags Flags)
	// ExpectAck registers fn for the ACK carrying id (broadcast with ack).
	// fn runs at most once; the registration is dropped, without calling
	// fn, when ctx is done or the socket disconnects.
	ExpectAck(ctx context.Context, id uint64, fn func(ack *parser.Packet))
	// Join adds the socket to rooms, through the adapter.
	Join(rooms ...string)
	// Leave removes the socket from room.
	Leave(room string)
	// Disconnect disconnects the socket from its namespace, and closes its
	// connection if close is true.
	Disconnect(close bool)
	// Info returns a snapshot of the socket for fetchSockets.
	Info() SocketInfo
}

// Flags are the broadcast modifiers (Node's BroadcastFlags).
type Flags struct {
	// Local limits the broadcast to this server.
	Local bool
	// Volatile lets a socket drop the packet when it is not ready.
	Volatile bool
	// NoCompress disables compression (Node's compress(false)).
	NoCompress bool
	// Timeout bounds a broadcast with acks (0: the caller's context only).
	Timeout time.Duration
}

// BroadcastOptions selects sockets: those in any of Rooms (every socket
// when Rooms is empty) and in none of Except.
type BroadcastOptions struct {
	Rooms  []string
	Except []string
	Flags  Flags
}

// Encoded is a packet encoded once for every local recipient: the text
// frame and its binary attachments as Engine.IO messages, shared by all
// sessions.
type Encoded struct {
	Packet   *parser.Packet
	Messages []*engineio.Message
}

// WithOffset returns a copy of the EVENT packet p with offset appended
// as its last argument (Node's connection state recovery). p.Data must be
// a JSON array.
func WithOffset(p *parser.Packet, offset string) *parser.Packet {
	data := bytes.TrimRight(p.Data, " \t\r\n")
	out := make([]byte, 0, len(data)+len(offset)+4)
	out = append(out, data[:len(data)-1]...)
	if len(data) > 2 { // not "[]"
		out = append(out, ',')
	}
	out = strconv.AppendQuote(out, offset) // offsets are plain ASCII
	out = append(out, ']')
	q := *p
	q.Data = out
	return &q
}

// Encode encodes p for delivery. Messages are marked uncompressed when
// noCompress is set.
func Encode(p *parser.Packet, noCompress bool) *Encoded {
	text, attachments := parser.Encode(p)
	msgs := make([]*engineio.Message, 0, 1+len(attachments))
	msgs = append(msgs, engineio.NewMessage(text, false))
	for _, a := range attachments {
		msgs = append(msgs, engineio.NewMessage(a, true))
	}
	if noCompress {
		for i, m := range msgs {
			msgs[i] = m.WithoutCompression()
		}
	}
	return &Encoded{Packet: p, Messages: msgs}
}

// Handshake describes how a socket connected (Node's socket.handshake).
type Handshake struct {
	Headers map[string][]string `json:"headers"`
	// Time is the connection time as a string (JavaScript's Date.toString
	// format is not reproduced; RFC 1123 is used).
	Time    string              `json:"time"`
	Address string              `json:"address"`
	XDomain bool                `json:"xdomain"`
	Secure  bool                `json:"secure"`
	Issued  int64               `json:"issued"` // Unix milliseconds
	URL     string              `json:"url"`
	Query   map[string][]string `json:"query"`
	Auth    jsontext.Value      `json:"auth"` // the CONNECT payload, {} when absent
}

// SocketInfo is a snapshot of a socket, local or remote (fetchSockets).
type SocketInfo struct {
	ID        string
	Handshake Handshake
	Rooms     []string
	// Data is the socket's data as JSON (Node's socket.data).
	Data jsontext.Value
	// Local is the socket itself when it is connected to this server.
	Local LocalSocket
}

// Response is one server's answer to ServerSideEmitWithAck: the JSON array
// of its ack arguments and their attachments.
type Response struct {
	Data        jsontext.Value
	Attachments [][]byte
}

// Sentinel errors.
var (
	// ErrClosed may be returned by an adapter that has been closed (a
	// cluster adapter can no longer reach its peers). The memory adapter
	// returns nil: after Close it simply has no socket left.
	ErrClosed = errors.New("adapter: closed")
)

// PartialError reports a cluster request that ended before every server
// answered: the results returned beside it are those that arrived.
type PartialError struct {
	// Expected is the number of answers awaited, Received those that came.
	Expected, Received int
	// Missing names the servers that did not answer, when known.
	Missing []string
	// Err is the cause: context.DeadlineExceeded or context.Canceled.
	Err error
}

// Error implements error.
func (e *PartialError) Error() string {
	return fmt.Sprintf("adapter: %d of %d responses (missing %v): %v", e.Received, e.Expected, e.Missing, e.Err)
}

// Unwrap returns e.Err.
func (e *PartialError) Unwrap() error { return e.Err }
