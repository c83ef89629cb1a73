package parser

import (
	"errors"
	"fmt"
)

// Errors returned by the [Decoder] and the payload helpers. Test with
// [errors.Is]; the messages contain the text of the matching Node.js
// socket.io-parser error.
var (
	// ErrInvalidPacket reports a text frame that is empty, has an unknown
	// type, a malformed namespace or ack id, or a payload that is not
	// valid JSON or not of the shape the packet type requires.
	ErrInvalidPacket = errors.New("socketio/parser: invalid packet")
	// ErrTooManyAttachments reports a binary packet declaring more
	// attachments than [Decoder.MaxAttachments].
	ErrTooManyAttachments = errors.New("socketio/parser: too many attachments")
	// ErrIllegalAttachments reports a malformed attachment count ("Illegal
	// attachments" in Node) or a placeholder that does not designate one
	// of the packet's attachments ("illegal attachments").
	ErrIllegalAttachments = errors.New("socketio/parser: illegal attachments")
	// ErrUnexpectedBinary reports a binary frame received while no binary
	// packet awaits attachments.
	ErrUnexpectedBinary = errors.New("socketio/parser: got binary data when not reconstructing a packet")
	// ErrUnexpectedText reports a text frame received while a binary
	// packet still awaits attachments.
	ErrUnexpectedText = errors.New("socketio/parser: got plaintext data when reconstructing a packet")
)

// invalidf returns an error wrapping ErrInvalidPacket.
func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidPacket}, args...)...)
}

// illegalf returns an error wrapping ErrIllegalAttachments.
func illegalf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrIllegalAttachments}, args...)...)
}
