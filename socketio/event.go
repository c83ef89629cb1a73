package socketio

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/gosio/gosio/socketio/parser"
)

// EventHandler handles incoming events, like http.Handler handles
// requests. A returned error is reported to Options.OnError; the
// connection stays up.
type EventHandler interface {
	ServeEvent(ctx context.Context, ev *Event) error
}

// EventHandlerFunc adapts a function to [EventHandler].
type EventHandlerFunc func(ctx context.Context, ev *Event) error

// ServeEvent calls f.
func (f EventHandlerFunc) ServeEvent(ctx context.Context, ev *Event) error { return f(ctx, ev) }

// EventMiddleware wraps the handling of every event of a socket (Node's
// socket.use). Returning an error without calling next drops the event;
// the error is reported to Options.OnError.
type EventMiddleware func(next EventHandler) EventHandler

// Event is one EVENT (or BINARY_EVENT) packet received from a client, or
// one serverSideEmit event received from another server.
//
// Its arguments are decoded lazily, straight into the destinations given
// to Scan. An Event is only valid during the handler call, except Ack,
// which may be called later from any goroutine.
type Event struct {
	name        string
	socket      *Socket
	args        []jsontext.Value
	attachments [][]byte
	ack         func(data jsontext.Value, attachments [][]byte) error // nil: no ack expected
	acked       atomic.Bool
}

// Name returns the event name.
func (ev *Event) Name() string { return ev.name }

// Socket returns the socket the event came from, or nil for an event sent
// by another server.
func (ev *Event) Socket() *Socket { return ev.socket }

// NumArgs returns the number of arguments after the event name.
func (ev *Event) NumArgs() int { return len(ev.args) }

// Raw returns argument i as the exact JSON received. Binary attachments
// appear as {"_placeholder":true,"num":N}; use Scan to get their bytes.
// It returns nil for an index out of range.
func (ev *Event) Raw(i int) json.RawMessage {
	if i < 0 || i >= len(ev.args) {
		return nil
	}
	return json.RawMessage(ev.args[i])
}

// Scan decodes the arguments, in order, into dst (like sql.Rows.Scan).
// Extra arguments are ignored; missing ones leave their destination
// untouched. A destination of type *[]byte receives a binary attachment,
// as does any []byte field or element at any depth; a nil destination
// skips its argument. Errors are *ArgError.
func (ev *Event) Scan(dst ...any) error {
	for i, d := range dst {
		if d == nil || i >= len(ev.args) {
			continue
		}
		if err := parser.Unmarshal(ev.args[i], ev.attachments, d); err != nil {
			return &ArgError{Index: i, Err: err}
		}
	}
	return nil
}

// HasAck reports whether the sender expects an acknowledgement.
func (ev *Event) HasAck() bool { return ev.ack != nil }

// Ack acknowledges the event with args, at most once. It returns ErrNoAck
// if no ack was asked for and ErrAckSent if one was already sent. []byte
// values anywhere in args travel as binary attachments.
func (ev *Event) Ack(args ...any) error {
	if ev.ack == nil {
		return ErrNoAck
	}
	if ev.acked.Swap(true) {
		return ErrAckSent
	}
	data, atts, err := parser.MarshalArgs(args)
	if err != nil {
		ev.acked.Store(false)
		return fmt.Errorf("socketio: ack %q: %w", ev.name, err)
	}
	return ev.ack(data, atts)
}

// newEvent builds an Event from an EVENT packet's payload.
func newEvent(s *Socket, data jsontext.Value, attachments [][]byte) (*Event, error) {
	elems, err := parser.Elements(data)
	if err != nil {
		return nil, err
	}
	name, err := parser.EventName(data)
	if err != nil {
		return nil, err
	}
	return &Event{name: name, socket: s, args: elems[1:], attachments: attachments}, nil
}

// AckResponse is one acknowledgement received for an emit.
type AckResponse struct {
	args        []jsontext.Value
	attachments [][]byte
}

func newAckResponse(data jsontext.Value, attachments [][]byte) (*AckResponse, error) {
	if len(data) == 0 {
		return &AckResponse{attachments: attachments}, nil
	}
	elems, err := parser.Elements(data)
	if err != nil {
		return nil, err
	}
	return &AckResponse{args: elems, attachments: attachments}, nil
}

// NumArgs returns the number of arguments of the acknowledgement.
func (r *AckResponse) NumArgs() int { return len(r.args) }

// Raw returns argument i as raw JSON (see [Event.Raw]).
func (r *AckResponse) Raw(i int) json.RawMessage {
	if i < 0 || i >= len(r.args) {
		return nil
	}
	return json.RawMessage(r.args[i])
}

// Scan decodes the acknowledgement's arguments into dst, like
// [Event.Scan].
func (r *AckResponse) Scan(dst ...any) error {
	for i, d := range dst {
		if d == nil || i >= len(r.args) {
			continue
		}
		if err := parser.Unmarshal(r.args[i], r.attachments, d); err != nil {
			return &ArgError{Index: i, Err: err}
		}
	}
	return nil
}

// Handle adapts a function taking the event's first argument, decoded
// into T, to an [EventHandlerFunc]. Events whose argument does not decode
// are reported as errors.
func Handle[T any](fn func(ctx context.Context, s *Socket, in T) error) EventHandlerFunc {
	return func(ctx context.Context, ev *Event) error {
		var in T
		if err := ev.Scan(&in); err != nil {
			return fmt.Errorf("socketio: event %q: %w", ev.name, err)
		}
		return fn(ctx, ev.socket, in)
	}
}

// HandleAck is [Handle] for events that expect an answer: fn's result is
// sent as the ack's single argument. When fn returns an error, no ack is
// sent (the client's ack times out) and the error is reported; put error
// details inside R when the client needs them.
func HandleAck[T, R any](fn func(ctx context.Context, s *Socket, in T) (R, error)) EventHandlerFunc {
	return func(ctx context.Context, ev *Event) error {
		var in T
		if err := ev.Scan(&in); err != nil {
			return fmt.Errorf("socketio: event %q: %w", ev.name, err)
		}
		out, err := fn(ctx, ev.socket, in)
		if err != nil {
			return err
		}
		if !ev.HasAck() {
			return nil
		}
		return ev.Ack(out)
	}
}

// Args returns the arguments as received, each a [parser.Raw] holding
// its exact JSON and the event's attachments: ev.Ack(ev.Args()...) or
// s.Emit(name, ev.Args()...) sends them on byte for byte, binary
// attachments included (Node's callback(...args)).
func (ev *Event) Args() []any {
	out := make([]any, len(ev.args))
	for i, a := range ev.args {
		out[i] = parser.Raw{JSON: a, Attachments: ev.attachments}
	}
	return out
}
