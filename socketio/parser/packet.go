package parser

import (
	"fmt"

	"github.com/go-json-experiment/json/jsontext"
)

// Type is the type of a Socket.IO packet.
type Type byte

// The Socket.IO v5 packet types, with their wire values '0' to '6'.
const (
	Connect      Type = iota // CONNECT: join a namespace (client), or its acceptance (server)
	Disconnect               // DISCONNECT: leave a namespace
	Event                    // EVENT: an emitted event, possibly expecting an ack
	Ack                      // ACK: the answer to an event with an ack id
	ConnectError             // CONNECT_ERROR: the refusal of a CONNECT
	BinaryEvent              // BINARY_EVENT: an EVENT with binary attachments
	BinaryAck                // BINARY_ACK: an ACK with binary attachments
)

// numTypes is the number of packet types; valid types are below it.
const numTypes = 7

// DefaultMaxAttachments is the number of binary attachments a packet may
// declare when [Decoder.MaxAttachments] is zero; it is the default
// maxAttachments of the Node.js socket.io-parser 4.2.6.
const DefaultMaxAttachments = 10

// Wire bytes with a protocol meaning of their own.
const (
	typeBase          = '0' // the type character of Connect; Type(t) is written as typeBase+t
	attachmentsEnd    = '-' // ends the attachment count of a binary packet
	namespaceStart    = '/' // starts a namespace
	namespaceEnd      = ',' // ends a namespace
	defaultNamespace  = "/" // the namespace of a packet that names none
	placeholderMember = "_placeholder"
	numMember         = "num"
)

// maxAckID is the largest ack id a packet may carry: 2^53-1, JavaScript's
// Number.MAX_SAFE_INTEGER, above which the Node.js parser silently
// rounds ids.
const maxAckID = 1<<53 - 1

var typeNames = [numTypes]string{
	"CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR", "BINARY_EVENT", "BINARY_ACK",
}

// String returns the protocol's name for t ("CONNECT", "BINARY_EVENT", …).
func (t Type) String() string {
	if t < numTypes {
		return typeNames[t]
	}
	return fmt.Sprintf("Type(%d)", byte(t))
}

// Valid reports whether t is one of the seven Socket.IO packet types.
func (t Type) Valid() bool { return t < numTypes }

// binary reports whether t is a type that carries binary attachments.
func (t Type) binary() bool { return t == BinaryEvent || t == BinaryAck }

// reservedEvents are the event names a peer may not emit; Node's
// socket.io-parser RESERVED_EVENTS.
var reservedEvents = [...]string{
	"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener",
}

// maxReservedLen is the length of the longest reserved event name.
const maxReservedLen = len("removeListener")

// IsReserved reports whether event is a name Socket.IO reserves for its own
// lifecycle events (connect, connect_error, disconnect, disconnecting,
// newListener, removeListener). The [Decoder] rejects EVENT packets with
// such a name, and servers should refuse to register handlers for them.
func IsReserved(event string) bool {
	for _, r := range reservedEvents {
		if event == r {
			return true
		}
	}
	return false
}

// Packet is one Socket.IO packet.
//
// A decoded Packet aliases the frames passed to [Decoder.Add]: Data is a
// part of the text frame and each attachment is a binary frame, all with
// no spare capacity. Copy them to keep them beyond the lifetime of those
// buffers.
//
// The encoders do not validate: Namespace must be empty, "/" or start
// with '/' and contain no ','; Data must be valid JSON of the shape the
// type requires (see the package documentation).
type Packet struct {
	// Type is the packet type. A decoded binary packet keeps its type
	// BinaryEvent or BinaryAck, so that the server can tell it apart.
	Type Type
	// Namespace is the namespace, "/" when the packet names none.
	Namespace string
	// ID is the ack id; it is meaningful only when HasID is set.
	ID uint64
	// HasID reports whether the packet carries an ack id.
	HasID bool
	// Data is the JSON payload exactly as received, placeholders of
	// binary attachments included; nil when the packet has none.
	Data jsontext.Value
	// Attachments are the binary attachments, in order. A decoded binary
	// packet has exactly as many as its text frame declares.
	Attachments [][]byte
}
