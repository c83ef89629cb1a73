package socketio

import (
	"errors"
	"fmt"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/engineio"
)

// Sentinel errors. Test with [errors.Is].
var (
	// ErrDisconnected is returned when emitting on, or waiting for an ack
	// from, a socket that has disconnected.
	ErrDisconnected = errors.New("socketio: socket disconnected")
	// ErrNoAck is returned by [Event.Ack] when the client asked for no ack.
	ErrNoAck = errors.New("socketio: the event has no ack")
	// ErrAckSent is returned by [Event.Ack] when the event was already
	// acknowledged.
	ErrAckSent = errors.New("socketio: ack already sent")
	// ErrReservedEvent is returned when emitting, or registering a handler
	// for, a reserved event name (connect, connect_error, disconnect,
	// disconnecting, newListener, removeListener).
	ErrReservedEvent = errors.New("socketio: reserved event name")
	// ErrServerClosed is returned once the server is shut down.
	ErrServerClosed = errors.New("socketio: server closed")
	// ErrSlowConsumer is returned by Emit when the client's send queue is
	// full; the client is disconnected.
	ErrSlowConsumer = engineio.ErrSlowConsumer
)

// PartialError reports an operation with acks that ended before every
// answer arrived; the results returned beside it are those that did.
type PartialError = adapter.PartialError

// Reason tells why a socket disconnected, with the Node.js server's exact
// values.
type Reason string

// Disconnect reasons.
const (
	// ReasonServerNamespaceDisconnect: [Socket.Disconnect] was called.
	ReasonServerNamespaceDisconnect Reason = "server namespace disconnect"
	// ReasonClientNamespaceDisconnect: the client disconnected the socket
	// (socket.disconnect() on the client).
	ReasonClientNamespaceDisconnect Reason = "client namespace disconnect"
	// ReasonServerShuttingDown: the server is shutting down.
	ReasonServerShuttingDown Reason = "server shutting down"
	// ReasonPingTimeout: the client stopped answering pings.
	ReasonPingTimeout Reason = "ping timeout"
	// ReasonTransportClose: the client closed the connection.
	ReasonTransportClose Reason = "transport close"
	// ReasonTransportError: the connection failed.
	ReasonTransportError Reason = "transport error"
	// ReasonParseError: the client sent a packet that does not decode.
	ReasonParseError Reason = "parse error"
	// ReasonForcedClose: the connection was closed by the server.
	ReasonForcedClose Reason = "forced close"
	// ReasonForcedServerClose: the server closed the connection, for
	// instance with Disconnect(true) or on a protocol violation.
	ReasonForcedServerClose Reason = "forced server close"
	// ReasonSlowConsumer: the client did not read fast enough (gosio's
	// own; see engineio.Options.MaxBufferedBytes).
	ReasonSlowConsumer Reason = "slow consumer"
)

// ConnectError rejects a connection from namespace middleware: the client
// receives CONNECT_ERROR with {"message": Message, "data": Data} (its
// connect_error event), like a Node middleware's next(err) with err.data.
type ConnectError struct {
	Message string
	// Data is any JSON-serialisable value, or nil.
	Data any
}

// Error implements error.
func (e *ConnectError) Error() string { return "socketio: connection refused: " + e.Message }

// ArgError reports an event argument that could not be decoded.
type ArgError struct {
	Index int
	Err   error
}

// Error implements error.
func (e *ArgError) Error() string { return fmt.Sprintf("socketio: argument %d: %v", e.Index, e.Err) }

// Unwrap returns e.Err.
func (e *ArgError) Unwrap() error { return e.Err }
