package engineio

import (
	"errors"
	"fmt"
	"net/http"
)

// Sentinel errors. Test with [errors.Is].
var (
	// ErrSessionClosed is returned by Send and friends once the session is
	// closed or closing.
	ErrSessionClosed = errors.New("engineio: session closed")
	// ErrSlowConsumer is returned by Send when the session's send queue is
	// full; the session is closed with [ReasonSlowConsumer].
	ErrSlowConsumer = errors.New("engineio: send queue full (slow consumer)")
	// ErrServerClosed is returned by Shutdown and Close once the server has
	// been closed, and reported for requests that arrive after that.
	ErrServerClosed = errors.New("engineio: server closed")
	// ErrPayloadTooLarge reports a long-polling body or WebSocket message
	// larger than Options.MaxHTTPBufferSize.
	ErrPayloadTooLarge = errors.New("engineio: payload too large")
)

// Reason tells why a session closed. The values are exactly those of the
// Node.js engine.io server, so code and log queries port unchanged.
type Reason string

// Close reasons.
const (
	// ReasonTransportClose: the client closed the connection or sent a
	// close packet.
	ReasonTransportClose Reason = "transport close"
	// ReasonTransportError: the transport failed or the client broke the
	// transport rules (overlapping polls, oversized body, client ping…).
	ReasonTransportError Reason = "transport error"
	// ReasonPingTimeout: no pong arrived within PingTimeout after a ping.
	ReasonPingTimeout Reason = "ping timeout"
	// ReasonParseError: the client sent a packet that does not decode.
	ReasonParseError Reason = "parse error"
	// ReasonForcedClose: the server closed the session ([Session.Close]).
	ReasonForcedClose Reason = "forced close"
	// ReasonServerShuttingDown: [Server.Shutdown] or [Server.Close].
	ReasonServerShuttingDown Reason = "server shutting down"
	// ReasonSlowConsumer: the client did not read fast enough and its send
	// queue reached Options.MaxBufferedBytes. Node.js has no such bound;
	// this reason is gosio's own.
	ReasonSlowConsumer Reason = "slow consumer"
)

// ErrorCode is an Engine.IO handshake error code, sent to the client in the
// JSON body {"code":N,"message":"…"} of a rejected HTTP request.
type ErrorCode int

// The Engine.IO error codes, with the Node.js server's values and messages.
const (
	CodeUnknownTransport           ErrorCode = 0 // "Transport unknown"
	CodeUnknownSID                 ErrorCode = 1 // "Session ID unknown"
	CodeBadHandshakeMethod         ErrorCode = 2 // "Bad handshake method"
	CodeBadRequest                 ErrorCode = 3 // "Bad request"
	CodeForbidden                  ErrorCode = 4 // "Forbidden" (HTTP 403)
	CodeUnsupportedProtocolVersion ErrorCode = 5 // "Unsupported protocol version"
)

var codeMessages = [...]string{
	"Transport unknown",
	"Session ID unknown",
	"Bad handshake method",
	"Bad request",
	"Forbidden",
	"Unsupported protocol version",
}

// Message returns the Node.js server's message for c.
func (c ErrorCode) Message() string {
	if c >= 0 && int(c) < len(codeMessages) {
		return codeMessages[c]
	}
	return fmt.Sprintf("error %d", int(c))
}

// status is the HTTP status Node.js answers with for c.
func (c ErrorCode) status() int {
	if c == CodeForbidden {
		return http.StatusForbidden
	}
	return http.StatusBadRequest
}

// ConnectionError describes a request the server rejected before it reached
// a session. It is passed to Options.OnConnectionError (Node's
// "connection_error" event).
type ConnectionError struct {
	// Request is the rejected request. Its body must not be read.
	Request *http.Request
	Code    ErrorCode
	// Message is the message sent to the client: Code.Message(), or the
	// error text returned by Options.AllowRequest.
	Message string
	// Context names the precise cause with the Node.js server's names:
	// "TRANSPORT_MISMATCH", "TRANSPORT_HANDSHAKE_ERROR", "INVALID_ORIGIN",
	// "ID_GENERATION_ERROR", "CROSS_ORIGIN_WEBSOCKET", or empty.
	Context string
	// Err is the underlying error, if any (from AllowRequest or GenerateID).
	Err error
}

// Error implements error.
func (e *ConnectionError) Error() string {
	s := fmt.Sprintf("engineio: request rejected: %s (code %d)", e.Message, int(e.Code))
	if e.Context != "" {
		s += ": " + e.Context
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns e.Err.
func (e *ConnectionError) Unwrap() error { return e.Err }
