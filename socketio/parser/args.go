package parser

import (
	"errors"
	"fmt"
	"reflect"

	json "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// MarshalEvent returns the payload of an EVENT packet: the JSON array
// [event, args...], with every []byte in args replaced by a placeholder
// and returned in attachments (see [Marshal]). When attachments is not
// empty, send the packet as a BinaryEvent with those attachments
// ([AppendText] and [Encode] do so by themselves).
//
// A reserved event name (see [IsReserved]) is an error wrapping
// [ErrInvalidPacket]: the peer would reject the packet.
func MarshalEvent(event string, args []any) (data jsontext.Value, attachments [][]byte, err error) {
	if IsReserved(event) {
		return nil, nil, invalidf("%q is a reserved event name", event)
	}
	if data, atts, ok := marshalFlat(event, true, args); ok {
		return data, atts, nil
	}
	vals := make([]any, 0, 1+len(args))
	vals = append(vals, event)
	return marshal(append(vals, args...))
}

// MarshalArgs returns the payload of an ACK packet: the JSON array
// [args...] ("[]" when args is empty), with every []byte in args
// replaced by a placeholder and returned in attachments (see [Marshal]).
func MarshalArgs(args []any) (data jsontext.Value, attachments [][]byte, err error) {
	if data, atts, ok := marshalFlat("", false, args); ok {
		return data, atts, nil
	}
	return marshal(args)
}

// Marshal returns the JSON encoding of v, for instance the payload of a
// CONNECT or CONNECT_ERROR packet, and the binary attachments it holds.
//
// Marshal follows the rules of encoding/json (v1) — field names and tags,
// omitempty, nil slices and maps as null, sorted map keys, HTML-safe
// escaping — except for values of type []byte, at any depth (argument,
// slice or array element, map value, struct field, behind pointers and
// interfaces): each non-nil one becomes a placeholder
// {"_placeholder":true,"num":N}, numbered in the order encountered, and
// is appended to attachments, which alias the values (they are not
// copied). A nil []byte is null. Other byte-slice types keep their
// encoding/json form: a type with its own MarshalJSON (json.RawMessage)
// is written as it says, one without is base64; a []byte that a type's
// own MarshalJSON method encodes is base64 too.
func Marshal(v any) (data jsontext.Value, attachments [][]byte, err error) {
	return marshal(v)
}

// Unmarshal decodes the JSON value raw, an element of a packet's payload
// or the whole payload, into dst, which must be a non-nil pointer. A
// placeholder designates one of attachments, the packet's attachments:
//
//   - decoded into a []byte at any depth, a placeholder yields the
//     attachment itself (not a copy); a JSON string is base64 as usual;
//   - decoded into an any at any depth (including the elements of
//     []any and map[string]any), a placeholder yields the attachment as
//     a []byte instead of a map.
//
// Decoded into any other type, a placeholder is an ordinary object.
// Everything else follows encoding/json (v1): unknown object members are
// ignored, field names match case-insensitively, numbers in an any are
// float64. A placeholder whose num is not an index into attachments is
// an error wrapping [ErrIllegalAttachments]; other errors come from the
// JSON decoder (they concern the application, not the protocol).
func Unmarshal(raw jsontext.Value, attachments [][]byte, dst any) error {
	if v := reflect.ValueOf(dst); v.Kind() != reflect.Pointer || v.IsNil() {
		return fmt.Errorf("socketio/parser: unmarshal: destination must be a non-nil pointer, not %T", dst)
	}
	s := unmarshalState{attachments: attachments}
	err := json.Unmarshal(raw, dst, jsonv1.DefaultOptionsV1(), json.WithUnmarshalers(json.JoinUnmarshalers(
		json.UnmarshalFromFunc(s.unmarshalBytes),
		json.UnmarshalFromFunc(s.unmarshalAny),
	)))
	if err != nil {
		return fmt.Errorf("socketio/parser: unmarshal: %w", err)
	}
	return nil
}

// marshalState collects the attachments of one Marshal call.
type marshalState struct {
	attachments [][]byte
	scratch     [48]byte
}

func marshal(v any) (jsontext.Value, [][]byte, error) {
	var s marshalState
	// v1 semantics, but no HTML/JS escaping: JSON.stringify writes "<",
	// "&" and U+2028 as they are, and so do we (same bytes as Node).
	data, err := json.Marshal(v, jsonv1.DefaultOptionsV1(),
		jsontext.EscapeForHTML(false), jsontext.EscapeForJS(false),
		json.WithMarshalers(json.JoinMarshalers(
			json.MarshalToFunc(s.marshalBytes),
			json.MarshalToFunc(s.marshalRaw),
		)))
	if err != nil {
		return nil, nil, fmt.Errorf("socketio/parser: marshal: %w", err)
	}
	return data, s.attachments, nil
}

// marshalBytes writes a placeholder for b and records b as an attachment.
// It takes precedence over encoding/json's base64 encoding of []byte
// (FormatBytesWithLegacySemantics), which only applies to types without
// a marshaler.
func (s *marshalState) marshalBytes(enc *jsontext.Encoder, b []byte) error {
	if b == nil {
		return enc.WriteToken(jsontext.Null)
	}
	ph := AppendPlaceholder(s.scratch[:0], len(s.attachments))
	s.attachments = append(s.attachments, b)
	return enc.WriteValue(ph)
}

// unmarshalState holds the attachments of one Unmarshal call.
type unmarshalState struct {
	attachments [][]byte
}

// unmarshalBytes decodes a placeholder into a []byte; anything else is
// left to encoding/json.
func (s *unmarshalState) unmarshalBytes(dec *jsontext.Decoder, b *[]byte) error {
	if dec.PeekKind() != '{' {
		return errors.ErrUnsupported
	}
	i, err := readPlaceholder(dec, len(s.attachments))
	if err != nil {
		return err
	}
	*b = s.attachments[i]
	return nil
}

// unmarshalAny decodes an object into an any: a placeholder becomes its
// attachment, any other object a map[string]any whose values are decoded
// by the same rules. A non-nil pointer in the any is left to
// encoding/json, which decodes into what it points to.
func (s *unmarshalState) unmarshalAny(dec *jsontext.Decoder, v *any) error {
	if dec.PeekKind() != '{' || (*v != nil && reflect.TypeOf(*v).Kind() == reflect.Pointer) {
		return errors.ErrUnsupported
	}
	// With v1 error semantics, every UnmarshalDecode call first validates
	// the whole value it is about to decode; nested calls would make
	// that quadratic in the nesting depth. The top-level call has
	// validated everything already.
	var m map[string]any
	if err := json.UnmarshalDecode(dec, &m, jsonv1.ReportErrorsWithLegacySemantics(false)); err != nil {
		return err
	}
	if m[placeholderMember] != true {
		*v = m
		return nil
	}
	f, ok := m[numMember].(float64)
	i, valid := floatIndex(f, len(s.attachments))
	if !ok || !valid {
		return badPlaceholder(len(s.attachments))
	}
	*v = s.attachments[i]
	return nil
}

// readPlaceholder reads an object that must be a valid placeholder for
// count attachments and returns its index.
func readPlaceholder(dec *jsontext.Decoder, count int) (int, error) {
	if _, err := dec.ReadToken(); err != nil { // '{'
		return 0, err
	}
	var isPlaceholder, numValid bool
	var num int
	for dec.PeekKind() != '}' {
		name, err := dec.ReadValue()
		if err != nil {
			return 0, err
		}
		switch {
		case quotedEquals(name, placeholderMember):
			v, err := dec.ReadValue()
			if err != nil {
				return 0, err
			}
			isPlaceholder = string(v) == "true"
		case quotedEquals(name, numMember):
			v, err := dec.ReadValue()
			if err != nil {
				return 0, err
			}
			num, numValid = 0, false
			if v.Kind() == '0' {
				num, numValid = placeholderIndex(v, count)
			}
		default:
			if err := dec.SkipValue(); err != nil {
				return 0, err
			}
		}
	}
	if _, err := dec.ReadToken(); err != nil { // '}'
		return 0, err
	}
	if !isPlaceholder {
		return 0, illegalf("an object decoded into []byte must be a placeholder")
	}
	if !numValid {
		return 0, badPlaceholder(count)
	}
	return num, nil
}
