package parser

import (
	"bytes"
	"fmt"
	"iter"
)

// AppendPayload appends packets as one long-polling payload: each encoded
// by [AppendPayloadPacket], separated by [RecordSeparator].
func AppendPayload(dst []byte, packets []Packet) []byte {
	for i, p := range packets {
		if i > 0 {
			dst = append(dst, RecordSeparator)
		}
		dst = AppendPayloadPacket(dst, p)
	}
	return dst
}

// PayloadLen returns the number of bytes [AppendPayload] appends.
func PayloadLen(packets []Packet) int {
	n := 0
	for i, p := range packets {
		if i > 0 {
			n++
		}
		n += EncodedLen(p)
	}
	return n
}

// Packets decodes a long-polling payload lazily: it yields the packets in
// order, and stops after yielding the first error (wrapping
// [ErrInvalidPayload]) with a zero Packet. Like the Node.js parser, the
// packets before an invalid one are valid and may be acted upon. An empty
// payload is invalid.
//
// It allocates nothing for text packets, whose Data alias data (with no
// spare capacity, so appending to one never overwrites the next); binary
// data is freshly allocated. This is what servers should use on untrusted
// input: memory stays proportional to the largest packet, not to the
// number of packets.
func Packets(data []byte) iter.Seq2[Packet, error] {
	return func(yield func(Packet, error) bool) {
		for i := 0; ; i++ {
			chunk, rest, more := bytes.Cut(data, []byte{RecordSeparator})
			p, err := decodeText(chunk)
			if err != nil {
				yield(Packet{}, fmt.Errorf("%w: packet %d: %w", ErrInvalidPayload, i, err))
				return
			}
			if !yield(p, nil) || !more {
				return
			}
			data = rest
		}
	}
}

// DecodePayload decodes a whole long-polling payload into a slice; see
// [Packets] for the rules. On error it returns the packets before the
// invalid one together with the error. The slice costs about 40 bytes per
// packet: on untrusted input prefer [Packets].
func DecodePayload(data []byte) ([]Packet, error) {
	var packets []Packet
	for p, err := range Packets(data) {
		if err != nil {
			return packets, err
		}
		packets = append(packets, p)
	}
	return packets, nil
}
