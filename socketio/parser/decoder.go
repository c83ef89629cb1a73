package parser

import (
	"bytes"
	"fmt"
	"unicode/utf8"
)

// Decoder reassembles packets from the Engine.IO messages of one
// connection: text frames, and the binary frames that follow the text
// frame of a binary packet. Not safe for concurrent use.
//
// The zero Decoder is ready to use. It retains the frames of a binary
// packet until the last attachment arrives or it is reset, and the
// packets it returns alias the frames (see [Packet]): do not modify or
// reuse a buffer passed to [Decoder.Add] while a packet built from it is
// in use.
type Decoder struct {
	// MaxAttachments is the largest number of binary attachments a packet
	// may declare; more is ErrTooManyAttachments. Zero means
	// DefaultMaxAttachments (10, Node's maxAttachments default); a
	// negative value rejects every binary packet. Memory is never
	// allocated in proportion to a declared count, only to the
	// attachments that actually arrive.
	MaxAttachments int

	pending *Packet // the binary packet awaiting attachments, if any
	want    int     // the number of attachments it declares
}

// Add decodes one message of the connection: a text frame (binary false)
// or a binary frame. It returns the completed packet, or (nil, nil) while
// a binary packet awaits more attachments.
//
// A text frame is decoded and validated at once, placeholders included,
// so that an invalid binary packet is rejected before its attachments
// are received. Every error means the peer broke the protocol: the
// server should close the connection, as Node's server does. After an
// error the Decoder is reset and usable again.
func (d *Decoder) Add(data []byte, binary bool) (*Packet, error) {
	if binary {
		p := d.pending
		if p == nil {
			return nil, ErrUnexpectedBinary
		}
		p.Attachments = append(p.Attachments, data[:len(data):len(data)])
		if len(p.Attachments) < d.want {
			return nil, nil
		}
		d.Reset()
		return p, nil
	}
	if d.pending != nil {
		d.Reset()
		return nil, ErrUnexpectedText
	}
	p, count, err := decodeText(data, d.maxAttachments())
	if err != nil {
		return nil, err
	}
	if count == 0 {
		return p, nil
	}
	p.Attachments = make([][]byte, 0, min(count, DefaultMaxAttachments))
	d.pending, d.want = p, count
	return nil, nil
}

// Pending reports whether a binary packet awaits attachments, that is,
// whether the next message must be a binary frame.
func (d *Decoder) Pending() bool { return d.pending != nil }

// Reset drops a binary packet awaiting attachments, if any.
func (d *Decoder) Reset() { d.pending, d.want = nil, 0 }

func (d *Decoder) maxAttachments() int {
	if d.MaxAttachments == 0 {
		return DefaultMaxAttachments
	}
	return d.MaxAttachments
}

// decodeText decodes a text frame:
//
//	<type>[<attachments>-][<namespace>,][<ack id>][<JSON payload>]
//
// It returns the packet and the number of attachments it declares (zero
// unless the type is binary).
func decodeText(data []byte, maxAttachments int) (*Packet, int, error) {
	if len(data) == 0 {
		return nil, 0, invalidf("empty packet")
	}
	t := Type(data[0] - typeBase) // bytes below '0' wrap to large, invalid types
	if !t.Valid() {
		return nil, 0, invalidf("unknown packet type %q", data[0])
	}
	i := 1

	count := 0
	if t.binary() {
		end := bytes.IndexByte(data[i:], attachmentsEnd)
		if end < 0 {
			return nil, 0, illegalf("no %q after the attachment count", attachmentsEnd)
		}
		digits := data[i : i+end]
		n, ok := parseCount(digits)
		switch {
		case !ok || n < 1:
			return nil, 0, illegalf("attachment count %s", quoteShort(digits))
		case n > maxAttachments:
			return nil, 0, fmt.Errorf("%w: %s declared, the limit is %d",
				ErrTooManyAttachments, quoteShort(digits), max(maxAttachments, 0))
		}
		count = n
		i += end + 1
	}

	p := &Packet{Type: t, Namespace: defaultNamespace}
	if i < len(data) && data[i] == namespaceStart {
		nsp := data[i:]
		i = len(data)
		if end := bytes.IndexByte(nsp, namespaceEnd); end >= 0 {
			i -= len(nsp) - end - 1
			nsp = nsp[:end]
		}
		if !utf8.Valid(nsp) {
			return nil, 0, invalidf("namespace is not valid UTF-8")
		}
		if len(nsp) > 1 {
			p.Namespace = string(nsp)
		}
	}

	if i < len(data) && isDigit(data[i]) {
		var id uint64
		j := i
		for ; j < len(data) && isDigit(data[j]); j++ {
			if id <= maxAckID { // saturate: never overflows
				id = id*10 + uint64(data[j]-'0')
			}
		}
		if id > maxAckID {
			return nil, 0, invalidf("ack id %s is above 2^53-1", quoteShort(data[i:j]))
		}
		p.ID, p.HasID = id, true
		i = j
	}

	if i == len(data) {
		switch t {
		case Connect, Disconnect:
			return p, count, nil
		}
		return nil, 0, invalidf("invalid payload: %s requires a payload", t)
	}
	if t == Disconnect {
		return nil, 0, invalidf("invalid payload: DISCONNECT has no payload")
	}
	payload := data[i:len(data):len(data)]
	if err := validatePayload(t, payload, count); err != nil {
		return nil, 0, err
	}
	p.Data = payload
	return p, count, nil
}

// parseCount parses a decimal attachment count, saturating instead of
// overflowing. ok is false unless digits is a non-empty run of ASCII
// digits.
func parseCount(digits []byte) (n int, ok bool) {
	const limit = 1 << 30
	if len(digits) == 0 {
		return 0, false
	}
	for _, c := range digits {
		if !isDigit(c) {
			return 0, false
		}
		if n < limit {
			n = n*10 + int(c-'0')
		}
	}
	return n, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// quoteShort quotes attacker-controlled bytes for an error message,
// truncated to a few dozen bytes.
func quoteShort(b []byte) string {
	const n = 32
	if len(b) > n {
		return fmt.Sprintf("%q…", b[:n])
	}
	return fmt.Sprintf("%q", b)
}
