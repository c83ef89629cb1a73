package parser

import (
	"encoding/base64"
	"errors"
	"fmt"
)

// Type is the type of an Engine.IO packet.
type Type byte

// The Engine.IO v4 packet types, with their wire values '0' to '6'.
const (
	Open Type = iota
	Close
	Ping
	Pong
	Message
	Upgrade
	Noop
)

// numTypes is the number of packet types; valid types are below it.
const numTypes = 7

// Wire bytes with a protocol meaning of their own.
const (
	typeBase        = '0'  // the type character of Open; Type(t) is written as typeBase+t
	binaryPrefix    = 'b'  // a base64-encoded binary message inside a polling payload
	RecordSeparator = 0x1e // separates packets inside a polling payload
)

var typeNames = [numTypes]string{"open", "close", "ping", "pong", "message", "upgrade", "noop"}

// String returns the protocol's name for t ("open", "message", …).
func (t Type) String() string {
	if t < numTypes {
		return typeNames[t]
	}
	return fmt.Sprintf("Type(%d)", byte(t))
}

// Valid reports whether t is one of the seven Engine.IO packet types.
func (t Type) Valid() bool { return t < numTypes }

// Errors returned by the decoders. Test with [errors.Is].
var (
	// ErrInvalidPacket reports a packet that is empty, has an unknown type
	// character, or carries a binary message that is not valid base64.
	ErrInvalidPacket = errors.New("engineio/parser: invalid packet")
	// ErrInvalidPayload reports a long-polling payload that holds an
	// invalid packet (an empty one, for instance from two separators in a
	// row).
	ErrInvalidPayload = errors.New("engineio/parser: invalid payload")
)

// Packet is one Engine.IO packet.
//
// Data aliases the buffer it was decoded from (except for base64-decoded
// binary data, which is freshly allocated), with no spare capacity; copy
// it to keep it beyond the buffer's lifetime.
//
// Encoders do not validate: the text of a packet sent in a long-polling
// payload must not contain the record separator 0x1e (JSON, as Socket.IO
// uses it, never does: it escapes control characters).
type Packet struct {
	Type Type
	// Data is the packet's data: text for every type, raw bytes for a
	// binary message.
	Data []byte
	// Binary marks a binary message. Only a Message may be binary.
	Binary bool
}

// DecodePacket decodes one packet as received in a WebSocket message.
// binary tells whether it came in a binary frame, which always holds a
// binary message. A text frame holds a type character and data; like the
// Node.js parser it also accepts "b" followed by base64 as a binary message.
func DecodePacket(data []byte, binary bool) (Packet, error) {
	if binary {
		return Packet{Type: Message, Data: data[:len(data):len(data)], Binary: true}, nil
	}
	return decodeText(data)
}

func decodeText(data []byte) (Packet, error) {
	if len(data) == 0 {
		return Packet{}, fmt.Errorf("%w: empty", ErrInvalidPacket)
	}
	c := data[0]
	if c == binaryPrefix {
		raw, err := decodeBase64(data[1:])
		if err != nil {
			return Packet{}, fmt.Errorf("%w: binary message: %w", ErrInvalidPacket, err)
		}
		return Packet{Type: Message, Data: raw, Binary: true}, nil
	}
	t := Type(c - typeBase) // bytes below '0' wrap to large, invalid types
	if !t.Valid() {
		return Packet{}, fmt.Errorf("%w: unknown type %q", ErrInvalidPacket, c)
	}
	return Packet{Type: t, Data: data[1:len(data):len(data)]}, nil
}

func decodeBase64(src []byte) ([]byte, error) {
	dst := make([]byte, base64.StdEncoding.DecodedLen(len(src)))
	n, err := base64.StdEncoding.Decode(dst, src)
	if err != nil {
		return nil, err
	}
	return dst[:n], nil
}

// AppendPacket appends p as it travels in a WebSocket message and returns
// the extended buffer: the type character and data for a text packet, the
// raw data for a binary message (sent in a binary frame).
func AppendPacket(dst []byte, p Packet) []byte {
	if p.Binary {
		return append(dst, p.Data...)
	}
	dst = append(dst, typeBase+byte(p.Type))
	return append(dst, p.Data...)
}

// AppendPayloadPacket appends p as it travels inside a long-polling payload:
// like [AppendPacket] for text, and "b" plus base64 for a binary message.
// It does not append a record separator.
func AppendPayloadPacket(dst []byte, p Packet) []byte {
	if !p.Binary {
		return AppendPacket(dst, p)
	}
	dst = append(dst, binaryPrefix)
	return base64.StdEncoding.AppendEncode(dst, p.Data)
}

// EncodedLen returns the number of bytes [AppendPayloadPacket] appends for p.
func EncodedLen(p Packet) int {
	if p.Binary {
		return 1 + base64.StdEncoding.EncodedLen(len(p.Data))
	}
	return 1 + len(p.Data)
}
