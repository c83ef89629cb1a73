package parser

import (
	"errors"
	"io"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// member identifies the object members a placeholder check cares about.
type member uint8

const (
	memberOther member = iota
	memberPlaceholder
	memberNum
)

// object is the placeholder state of one open JSON object. The index in
// "num" is checked against the number of attachments as soon as it is
// read, so that the state fits in three bytes.
type object struct {
	member      member // the member whose value comes next
	placeholder bool   // the last "_placeholder" member is true
	numValid    bool   // the last "num" member designates an attachment
}

// setMember records the value of the current member: raw for a scalar,
// nil for an array or object (neither true nor a number).
func (o *object) setMember(raw jsontext.Value, count int) {
	switch o.member {
	case memberPlaceholder:
		o.placeholder = string(raw) == "true"
	case memberNum:
		o.numValid = false
		if raw.Kind() == '0' {
			_, o.numValid = placeholderIndex(raw, count)
		}
	}
}

// validatePayload checks that data is exactly one JSON value (RFC 8259,
// valid UTF-8) of the shape that packet type t requires, and that every
// placeholder in it designates one of count attachments.
//
// It walks the value once, token by token, without recursion. Memory is
// proportional to the nesting depth of objects (3 bytes each; arrays
// cost nothing here) plus jsontext's own state (tens of bytes per level
// of arrays and objects); jsontext limits the depth to 10 000.
func validatePayload(t Type, data []byte, count int) error {
	if !utf8.Valid(data) {
		return invalidf("invalid payload: invalid UTF-8")
	}
	dec := getJSONDecoder(data)
	defer putJSONDecoder(dec)
	var buf [32]object
	objects := buf[:0] // the open objects, innermost last
	for {
		// Where the next token goes: depth and kind of the enclosing
		// array or object, and how many tokens it holds so far (names
		// and values count separately in an object).
		depth := dec.StackDepth()
		kind, length := dec.StackIndex(depth)
		var obj *object
		if kind == '{' {
			obj = &objects[len(objects)-1]
		}

		switch k := dec.PeekKind(); k {
		case '}', ']':
			if _, err := dec.ReadToken(); err != nil {
				return syntaxError(err)
			}
			if k == '}' {
				if obj.placeholder && !obj.numValid {
					return badPlaceholder(count)
				}
				objects = objects[:len(objects)-1]
			}
			if depth == 1 && length == 0 && (t == Event || t == BinaryEvent) {
				return invalidf("invalid payload: empty event array")
			}

		case '{', '[':
			if err := checkValue(t, depth, length, k, nil); err != nil {
				return err
			}
			if obj != nil {
				obj.setMember(nil, count)
			}
			if _, err := dec.ReadToken(); err != nil {
				return syntaxError(err)
			}
			if k == '{' {
				objects = append(objects, object{})
			}

		default: // a scalar, a member name, or an error
			v, err := dec.ReadValue()
			if err != nil {
				return syntaxError(err)
			}
			if obj != nil && length%2 == 0 {
				switch {
				case quotedEquals(v, placeholderMember):
					obj.member = memberPlaceholder
				case quotedEquals(v, numMember):
					obj.member = memberNum
				default:
					obj.member = memberOther
				}
				continue // a name never ends the value
			}
			if err := checkValue(t, depth, length, v.Kind(), v); err != nil {
				return err
			}
			if obj != nil {
				obj.setMember(v, count)
			}
		}
		if dec.StackDepth() == 0 {
			break
		}
	}
	// Exactly one value: jsontext would read a stream of them.
	if _, err := dec.ReadToken(); err != io.EOF {
		return invalidf("invalid payload: data after the JSON value")
	}
	return nil
}

// checkValue checks a value of the given kind against the shape packet
// type t requires, given where it starts: at depth 0 it is the payload,
// at depth 1 it is preceded by length values (or names and values) of
// the payload. raw is the value for scalars.
func checkValue(t Type, depth int, length int64, kind jsontext.Kind, raw []byte) error {
	switch {
	case depth == 0:
		if !topKindValid(t, kind) {
			return invalidf("invalid payload: %s payload cannot be %s", t, kindName(kind))
		}
	case depth == 1 && length == 0 && (t == Event || t == BinaryEvent):
		// The event name: a string that is not reserved, or a number.
		switch kind {
		case '0':
		case '"':
			if isReservedQuoted(raw) {
				return invalidf("invalid payload: %s is a reserved event name", raw)
			}
		default:
			return invalidf("invalid payload: event name cannot be %s", kindName(kind))
		}
	}
	return nil
}

// topKindValid reports whether a payload of the given kind is valid for
// packet type t (Node's Decoder.isPayloadValid).
func topKindValid(t Type, kind jsontext.Kind) bool {
	switch t {
	case Connect:
		return kind == '{'
	case ConnectError:
		return kind == '{' || kind == '"'
	case Event, BinaryEvent, Ack, BinaryAck:
		return kind == '['
	}
	return false // Disconnect carries no payload
}

func kindName(k jsontext.Kind) string {
	switch k {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case '0':
		return "a number"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "invalid"
}

func syntaxError(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return invalidf("invalid payload: truncated JSON")
	}
	return invalidf("invalid payload: %w", err)
}

func badPlaceholder(count int) error {
	return illegalf("placeholder num is not an integer in [0, %d)", count)
}
