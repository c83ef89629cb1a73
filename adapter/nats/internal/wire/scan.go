package wire

import (
	"encoding/binary"
	"fmt"
)

// MaxDepth is the deepest nesting of arrays and maps that [Decode] accepts,
// the envelope included.
const MaxDepth = 64

// timestampExt is the MessagePack extension type of timestamps, the only
// extension accepted.
const timestampExt = -1

// scanner checks that b holds exactly one well-formed MessagePack value
// whose declared lengths all fit in the input, before any decoding
// allocates according to them.
type scanner struct {
	b   []byte
	pos int
}

// validate reports whether b is one complete MessagePack value, nested at
// most MaxDepth deep, with no trailing bytes and no extension other than
// timestamps.
func validate(b []byte) error {
	s := scanner{b: b}
	if err := s.value(1); err != nil {
		return err
	}
	if s.pos != len(b) {
		return fmt.Errorf("%d trailing bytes", len(b)-s.pos)
	}
	return nil
}

func (s *scanner) rest() int { return len(s.b) - s.pos }

// take consumes n bytes.
func (s *scanner) take(n int) ([]byte, error) {
	if n < 0 || n > s.rest() {
		return nil, fmt.Errorf("truncated input at offset %d", s.pos)
	}
	p := s.b[s.pos : s.pos+n]
	s.pos += n
	return p, nil
}

// length reads a big-endian length of size 1, 2 or 4 bytes.
func (s *scanner) length(size int) (int, error) {
	p, err := s.take(size)
	if err != nil {
		return 0, err
	}
	switch size {
	case 1:
		return int(p[0]), nil
	case 2:
		return int(binary.BigEndian.Uint16(p)), nil
	default:
		return int(binary.BigEndian.Uint32(p)), nil
	}
}

func (s *scanner) value(depth int) error {
	p, err := s.take(1)
	if err != nil {
		return err
	}
	c := p[0]
	switch {
	case c <= 0x7f || c >= 0xe0: // positive and negative fixint
		return nil
	case c <= 0x8f:
		return s.container(int(c&0x0f), 2, depth)
	case c <= 0x9f:
		return s.container(int(c&0x0f), 1, depth)
	case c <= 0xbf: // fixstr
		_, err = s.take(int(c & 0x1f))
		return err
	}
	switch c {
	case 0xc0, 0xc2, 0xc3: // nil, false, true
		return nil
	case 0xc4, 0xd9: // bin8, str8
		return s.bytes(1)
	case 0xc5, 0xda: // bin16, str16
		return s.bytes(2)
	case 0xc6, 0xdb: // bin32, str32
		return s.bytes(4)
	case 0xc7: // ext8
		return s.ext(1, -1)
	case 0xc8: // ext16
		return s.ext(2, -1)
	case 0xc9: // ext32
		return s.ext(4, -1)
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: // fixext 1, 2, 4, 8, 16
		return s.ext(0, 1<<(c-0xd4))
	case 0xcc, 0xd0: // uint8, int8
		_, err = s.take(1)
	case 0xcd, 0xd1: // uint16, int16
		_, err = s.take(2)
	case 0xca, 0xce, 0xd2: // float32, uint32, int32
		_, err = s.take(4)
	case 0xcb, 0xcf, 0xd3: // float64, uint64, int64
		_, err = s.take(8)
	case 0xdc: // array16
		return s.sized(2, 1, depth)
	case 0xdd: // array32
		return s.sized(4, 1, depth)
	case 0xde: // map16
		return s.sized(2, 2, depth)
	case 0xdf: // map32
		return s.sized(4, 2, depth)
	default: // 0xc1, never used
		return fmt.Errorf("invalid byte 0x%02x at offset %d", c, s.pos-1)
	}
	return err
}

// bytes skips a str or bin whose length takes size bytes.
func (s *scanner) bytes(size int) error {
	n, err := s.length(size)
	if err != nil {
		return err
	}
	_, err = s.take(n)
	return err
}

// sized checks an array (per 1) or map (per 2) whose count takes size bytes.
func (s *scanner) sized(size, per, depth int) error {
	n, err := s.length(size)
	if err != nil {
		return err
	}
	return s.container(n, per, depth)
}

// container checks n elements of per values each: every value takes at
// least one byte, so a count beyond the remaining input is rejected before
// the decoder can allocate for it.
func (s *scanner) container(n, per, depth int) error {
	if depth > MaxDepth {
		return fmt.Errorf("nesting deeper than %d", MaxDepth)
	}
	if n > s.rest()/per {
		return fmt.Errorf("declared length %d exceeds the %d remaining bytes", n, s.rest())
	}
	for i := 0; i < n*per; i++ {
		if err := s.value(depth + 1); err != nil {
			return err
		}
	}
	return nil
}

// ext checks an extension: its length takes size bytes, or is fixed (n).
func (s *scanner) ext(size, n int) error {
	var err error
	if size > 0 {
		if n, err = s.length(size); err != nil {
			return err
		}
	}
	p, err := s.take(1)
	if err != nil {
		return err
	}
	if typ := int8(p[0]); typ != timestampExt || (n != 4 && n != 8 && n != 12) {
		return fmt.Errorf("unsupported extension type %d of length %d", typ, n)
	}
	_, err = s.take(n)
	return err
}
