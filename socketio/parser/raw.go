package parser

import (
	"bytes"
	"errors"

	"github.com/go-json-experiment/json/jsontext"
)

// Raw is a JSON value as it was received, with the attachments its
// placeholders designate (all those of its packet will do). [Marshal]
// writes it as it is, byte for byte, except that each placeholder becomes
// a placeholder of the attachment's new number in the output: a received
// argument, binary included, can be sent on without being decoded.
type Raw struct {
	JSON        jsontext.Value
	Attachments [][]byte
}

// mayHoldPlaceholder reports whether raw may hold a placeholder: it names
// the member, or has escapes that could spell it.
func mayHoldPlaceholder(raw []byte) bool {
	return bytes.IndexByte(raw, '\\') >= 0 || bytes.Contains(raw, []byte(placeholderMember))
}

// marshalRaw writes r, renumbering its placeholders.
func (s *marshalState) marshalRaw(enc *jsontext.Encoder, r Raw) error {
	if len(r.JSON) == 0 {
		return enc.WriteToken(jsontext.Null)
	}
	if len(r.Attachments) == 0 || !mayHoldPlaceholder(r.JSON) {
		return enc.WriteValue(r.JSON)
	}
	return s.writeRaw(enc, r.JSON, r.Attachments, 0)
}

// maxRawDepth bounds the nesting writeRaw takes apart: each level reads
// its value again, so the cost is the size times the depth.
const maxRawDepth = 64

var errRawDepth = errors.New("socketio/parser: Raw value with attachments nested too deep")

// writeRaw writes the JSON value v, replacing each placeholder of
// attachments by one numbered in s. Only the containers that may hold a
// placeholder are taken apart, down to maxRawDepth levels.
func (s *marshalState) writeRaw(enc *jsontext.Encoder, v jsontext.Value, attachments [][]byte, depth int) error {
	kind := v.Kind()
	if (kind != '{' && kind != '[') || !mayHoldPlaceholder(v) {
		return enc.WriteValue(v)
	}
	if depth >= maxRawDepth {
		return errRawDepth
	}
	if kind == '{' {
		if i, err := readPlaceholder(jsontext.NewDecoder(bytes.NewReader(v)), len(attachments)); err == nil {
			return s.marshalBytes(enc, attachments[i])
		}
	}
	dec := jsontext.NewDecoder(bytes.NewReader(v))
	tok, err := dec.ReadToken() // '{' or '['
	if err != nil {
		return err
	}
	if err := enc.WriteToken(tok); err != nil {
		return err
	}
	for dec.PeekKind() != '}' && dec.PeekKind() != ']' {
		if kind == '{' {
			name, err := dec.ReadValue()
			if err != nil {
				return err
			}
			if err := enc.WriteValue(name); err != nil {
				return err
			}
		}
		elem, err := dec.ReadValue()
		if err != nil {
			return err
		}
		if err := s.writeRaw(enc, elem, attachments, depth+1); err != nil {
			return err
		}
	}
	tok, err = dec.ReadToken() // '}' or ']'
	if err != nil {
		return err
	}
	return enc.WriteToken(tok)
}
