package wire

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	json "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"

	"github.com/gosio/gosio/socketio/parser"
)

// JSON and the cluster's values
//
// FromJSON and ToJSON convert between the JSON of a Socket.IO packet and
// the values the cluster carries, as Node does with JSON.parse, its msgpack
// codec and JSON.stringify: objects keep the order of their keys, integers
// travel as MessagePack integers, and placeholders become binary values.
// They walk the JSON token by token (no reflection, no recursion when
// reading), allocating one slice per array or object of the exact size.

// Placeholder members (socketio/parser's placeholder rules).
const (
	placeholderKey = "_placeholder"
	numKey         = "num"
)

// maxSafeInteger is 2^53, below which (in absolute value) every integer
// is exactly a float64 and JavaScript prints it with all its digits.
const maxSafeInteger = 1 << 53

// FromJSON transcodes data, one JSON value (a packet's payload or an
// element of it), to a cluster value:
//
//   - an object becomes an [Object], members in order (the first
//     position and the last value of a repeated name, as JSON.parse);
//   - an array becomes a []any, a string a string, true and false a bool,
//     null nil;
//   - a number written as an integer becomes an int64 when it fits (or a
//     uint64 above math.MaxInt64), exactly; any other number becomes a
//     float64, or an int64 when its value is an integer of magnitude at
//     most 2^53 (1.0, 1e3, -0), as Node's msgpack codec encodes such
//     numbers as integers; magnitudes beyond the float64 range are ±Inf,
//     as JSON.parse reads them;
//   - a placeholder {"_placeholder":true,"num":N}, at any depth, becomes
//     attachments[N] (aliased, not copied). As in socketio/parser, an
//     object is a placeholder when its "_placeholder" member is true, and
//     its num must then be an integer index into attachments, else the
//     error wraps [parser.ErrIllegalAttachments].
//
// An escaped lone surrogate ("\ud800", which JSON.stringify writes for
// one) is kept in the string as its 3-byte generalized UTF-8 form, which
// [ToJSON] escapes again and Node's msgpack decoder reads back as that
// surrogate; invalid UTF-8 bytes become U+FFFD. data must hold exactly
// one JSON value.
func FromJSON(data jsontext.Value, attachments [][]byte) (any, error) {
	v, err := fromJSON(data, attachments, true)
	if err != nil {
		return nil, fmt.Errorf("wire: from JSON: %w", err)
	}
	return v, nil
}

// ToJSON writes v, a cluster value, as JSON.stringify would write its
// JavaScript counterpart, and returns the binary values it holds as
// attachments:
//
//   - an [Object] in its order, a map[string]any with sorted keys;
//   - a []any as an array, a string quoted with JSON.stringify's escapes
//     (no HTML or JavaScript escaping; a lone surrogate in generalized
//     UTF-8 as \udxxx, other invalid UTF-8 as U+FFFD);
//   - integers in decimal; a float64 as ECMAScript's Number::toString
//     (1e+21, 1.5e-7, -0 as 0), NaN and infinities as null;
//   - a []byte as a placeholder {"_placeholder":true,"num":N}, its bytes
//     appended to attachments (aliased, not copied) in order of
//     appearance; a nil []byte as null;
//   - a time.Time as Date.prototype.toJSON writes it, an ISO 8601 string
//     in UTC with milliseconds ("2006-01-02T15:04:05.000Z").
//
// Other types are written with encoding/json (v1) rules. Nil slices and
// maps are null. attachments is nil when there are none.
func ToJSON(v any) (data jsontext.Value, attachments [][]byte, err error) {
	w := jsonWriter{buf: make([]byte, 0, 64), placeholders: true}
	if err := w.value(v, 0); err != nil {
		return nil, nil, fmt.Errorf("wire: to JSON: %w", err)
	}
	return w.buf, w.attachments, nil
}

// errBadPlaceholder is wrapped, with parser.ErrIllegalAttachments, by
// FromJSON's error for a placeholder whose num is not an attachment index.
var errBadPlaceholder = errors.New("placeholder num is not an attachment index")

// jsonReader is the reusable state of one fromJSON call: a decoder
// reading its input in place and the scratch stacks of the open arrays'
// elements and the open objects' members.
type jsonReader struct {
	dec     jsontext.Decoder
	buf     bytes.Buffer
	values  []any
	members []Member
	frames  []jsonFrame
}

// jsonFrame is one open array or object.
type jsonFrame struct {
	object   bool
	wantName bool   // an object expecting a member name
	name     string // the name of the member whose value is being read
	start    int    // index of its first element in values or members
}

// maxPooledScratch bounds the scratch stacks kept for reuse, so that one
// huge payload does not pin its memory in the pool.
const maxPooledScratch = 4096

var jsonReaders = sync.Pool{New: func() any { return new(jsonReader) }}

// fromJSON is FromJSON; with placeholders false (socket data, handshake
// auth: JSON that carries no attachments), placeholders are ordinary
// objects.
func fromJSON(data []byte, attachments [][]byte, placeholders bool) (any, error) {
	r := jsonReaders.Get().(*jsonReader)
	defer r.release()
	r.buf = *bytes.NewBuffer(data) // read in place, not copied
	// Duplicate names are allowed, as JSON.parse does (dedupe keeps the
	// last value); so are escaped lone surrogates, which JSON.stringify
	// writes (unquote keeps them).
	r.dec.Reset(&r.buf, jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	v, err := r.read(attachments, placeholders)
	if err != nil {
		return nil, err
	}
	// Exactly one value: jsontext reads a stream of them.
	if _, err := r.dec.ReadToken(); err != io.EOF {
		return nil, errors.New("data after the JSON value")
	}
	return v, nil
}

func (r *jsonReader) release() {
	r.buf = bytes.Buffer{}
	r.dec.Reset(&r.buf)
	if cap(r.values) > maxPooledScratch || cap(r.members) > maxPooledScratch || cap(r.frames) > maxPooledScratch {
		return // let the GC have it
	}
	clear(r.values[:cap(r.values)])
	clear(r.members[:cap(r.members)])
	clear(r.frames[:cap(r.frames)])
	r.values, r.members, r.frames = r.values[:0], r.members[:0], r.frames[:0]
	jsonReaders.Put(r)
}

// read reads one value without recursion: the elements of open arrays
// and members of open objects wait on the scratch stacks, and each
// array or object is copied into a slice of its exact size when it ends.
func (r *jsonReader) read(attachments [][]byte, placeholders bool) (any, error) {
	dec := &r.dec
	for {
		var v any
		var top *jsonFrame
		if n := len(r.frames); n > 0 {
			top = &r.frames[n-1]
		}
		switch k := dec.PeekKind(); k {
		case '{', '[':
			if _, err := dec.ReadToken(); err != nil {
				return nil, err
			}
			f := jsonFrame{object: k == '{', wantName: k == '{', start: len(r.values)}
			if f.object {
				f.start = len(r.members)
			}
			r.frames = append(r.frames, f)
			continue
		case ']':
			if _, err := dec.ReadToken(); err != nil {
				return nil, err
			}
			a := make([]any, len(r.values)-top.start)
			copy(a, r.values[top.start:])
			clear(r.values[top.start:])
			r.values = r.values[:top.start]
			r.frames = r.frames[:len(r.frames)-1]
			v = a
		case '}':
			if _, err := dec.ReadToken(); err != nil {
				return nil, err
			}
			o := make(Object, len(r.members)-top.start)
			copy(o, r.members[top.start:])
			clear(r.members[top.start:])
			r.members = r.members[:top.start]
			r.frames = r.frames[:len(r.frames)-1]
			o = dedupe(o)
			v = o
			if placeholders {
				b, ok, err := placeholder(o, attachments)
				if err != nil {
					return nil, err
				}
				if ok {
					v = b
				}
			}
		default: // a scalar, a member name, or an error
			raw, err := dec.ReadValue()
			if err != nil {
				return nil, err
			}
			if top != nil && top.wantName {
				top.name, top.wantName = unquote(raw), false
				continue
			}
			if v, err = scalar(raw); err != nil {
				return nil, err
			}
		}
		if len(r.frames) == 0 {
			return v, nil
		}
		top = &r.frames[len(r.frames)-1]
		if top.object {
			r.members = append(r.members, Member{Key: top.name, Value: v})
			top.name, top.wantName = "", true
		} else {
			r.values = append(r.values, v)
		}
	}
}

// placeholder reports whether o is a placeholder and returns its
// attachment.
func placeholder(o Object, attachments [][]byte) ([]byte, bool, error) {
	if p, _ := o.Get(placeholderKey); p != true {
		return nil, false, nil
	}
	num, _ := o.Get(numKey)
	if i, ok := num.(int64); ok && i >= 0 && i < int64(len(attachments)) {
		return attachments[i], true, nil
	}
	return nil, false, fmt.Errorf("%w: %w: %v of %d", parser.ErrIllegalAttachments, errBadPlaceholder, num, len(attachments))
}

// scalar converts a JSON literal, string or number.
func scalar(raw jsontext.Value) (any, error) {
	switch raw.Kind() {
	case 'n':
		return nil, nil
	case 't':
		return true, nil
	case 'f':
		return false, nil
	case '"':
		return unquote(raw), nil
	case '0':
		return jsonNumber(raw), nil
	}
	return nil, fmt.Errorf("unexpected JSON value %q", raw) // not reached: jsontext validated raw
}

// jsonNumber converts a JSON number (validated by jsontext).
func jsonNumber(raw []byte) any {
	digits := raw
	if digits[0] == '-' {
		digits = digits[1:]
	}
	integral := true
	for _, c := range digits {
		if c < '0' || c > '9' {
			integral = false
			break
		}
	}
	if integral {
		if len(digits) <= 18 { // fits an int64 whatever the digits
			var n int64
			for _, c := range digits {
				n = n*10 + int64(c-'0')
			}
			if len(digits) < len(raw) {
				n = -n
			}
			return n
		}
		if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
			return n
		}
		if n, err := strconv.ParseUint(string(raw), 10, 64); err == nil {
			return n
		}
	}
	// ±Inf beyond the float64 range, as JSON.parse: the error is ErrRange.
	f, _ := strconv.ParseFloat(string(raw), 64)
	if f == math.Trunc(f) && f >= -maxSafeInteger && f <= maxSafeInteger {
		return int64(f)
	}
	return f
}

// unquote returns the string a JSON string (validated by jsontext)
// denotes: escapes decoded, an escaped lone surrogate in its 3-byte
// generalized UTF-8 form, invalid UTF-8 bytes replaced by U+FFFD.
func unquote(raw []byte) string {
	s := raw[1 : len(raw)-1]
	if bytes.IndexByte(s, '\\') < 0 && utf8.Valid(s) {
		return string(s)
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRune(s[i:])
			out = utf8.AppendRune(out, r) // U+FFFD for an invalid byte
			i += n
			continue
		}
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		switch e := s[i+1]; e {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			u := hex4(s[i+2:])
			i += 6
			if utf16.IsSurrogate(rune(u)) {
				if u < 0xdc00 && i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
					if lo := hex4(s[i+2:]); lo >= 0xdc00 && lo <= 0xdfff {
						out = utf8.AppendRune(out, utf16.DecodeRune(rune(u), rune(lo)))
						i += 6
						continue
					}
				}
				out = appendSurrogate(out, u)
				continue
			}
			out = utf8.AppendRune(out, rune(u))
			continue
		default: // '"', '\\', '/'
			out = append(out, e)
		}
		i += 2
	}
	return string(out)
}

// hex4 decodes the 4 hexadecimal digits that jsontext validated.
func hex4(b []byte) uint16 {
	var u uint16
	for _, c := range b[:4] {
		switch {
		case c <= '9':
			c -= '0'
		case c <= 'F':
			c -= 'A' - 10
		default:
			c -= 'a' - 10
		}
		u = u<<4 | uint16(c)
	}
	return u
}

// appendSurrogate appends a UTF-16 surrogate code unit in the 3-byte form
// UTF-8 would give it if it allowed surrogates (WTF-8), as Node's msgpack
// codec writes a lone surrogate.
func appendSurrogate(b []byte, u uint16) []byte {
	return append(b, 0xe0|byte(u>>12), 0x80|byte(u>>6)&0x3f, 0x80|byte(u)&0x3f)
}

// surrogateAt returns the surrogate code unit encoded (WTF-8) at the
// start of s, if any.
func surrogateAt(s string) (uint16, bool) {
	if len(s) < 3 || s[0] != 0xed || s[1] < 0xa0 || s[1] > 0xbf || s[2] < 0x80 || s[2] > 0xbf {
		return 0, false
	}
	return 0xd000 | uint16(s[1]&0x3f)<<6 | uint16(s[2]&0x3f), true
}

// ---------------------------------------------------------------- writing

// maxJSONDepth is the deepest nesting ToJSON writes: jsontext, and so
// socketio/parser, rejects deeper JSON.
const maxJSONDepth = 10000

// jsonWriter appends JSON to buf.
type jsonWriter struct {
	buf         []byte
	attachments [][]byte
	// placeholders writes []byte as placeholders; otherwise as base64
	// strings (encoding/json's form, for socket data and auth).
	placeholders bool
}

func (w *jsonWriter) value(v any, depth int) error {
	if depth > maxJSONDepth {
		return fmt.Errorf("value nested deeper than %d", maxJSONDepth)
	}
	switch v := v.(type) {
	case nil:
		w.buf = append(w.buf, "null"...)
	case bool:
		w.buf = strconv.AppendBool(w.buf, v)
	case string:
		w.buf = appendString(w.buf, v)
	case int64:
		w.buf = strconv.AppendInt(w.buf, v, 10)
	case int:
		w.buf = strconv.AppendInt(w.buf, int64(v), 10)
	case uint64:
		w.buf = strconv.AppendUint(w.buf, v, 10)
	case float64:
		w.buf = appendFloat(w.buf, v)
	case []byte:
		switch {
		case v == nil:
			w.buf = append(w.buf, "null"...)
		case w.placeholders:
			w.buf = parser.AppendPlaceholder(w.buf, len(w.attachments))
			w.attachments = append(w.attachments, v)
		default:
			w.buf = append(w.buf, '"')
			w.buf = base64.StdEncoding.AppendEncode(w.buf, v)
			w.buf = append(w.buf, '"')
		}
	case Object:
		if v == nil {
			w.buf = append(w.buf, "null"...)
			return nil
		}
		w.buf = append(w.buf, '{')
		for i := range v {
			if i > 0 {
				w.buf = append(w.buf, ',')
			}
			w.buf = appendString(w.buf, v[i].Key)
			w.buf = append(w.buf, ':')
			if err := w.value(v[i].Value, depth+1); err != nil {
				return err
			}
		}
		w.buf = append(w.buf, '}')
	case []any:
		if v == nil {
			w.buf = append(w.buf, "null"...)
			return nil
		}
		w.buf = append(w.buf, '[')
		for i, e := range v {
			if i > 0 {
				w.buf = append(w.buf, ',')
			}
			if err := w.value(e, depth+1); err != nil {
				return err
			}
		}
		w.buf = append(w.buf, ']')
	case map[string]any:
		if v == nil {
			w.buf = append(w.buf, "null"...)
			return nil
		}
		w.buf = append(w.buf, '{')
		for i, k := range slices.Sorted(maps.Keys(v)) {
			if i > 0 {
				w.buf = append(w.buf, ',')
			}
			w.buf = appendString(w.buf, k)
			w.buf = append(w.buf, ':')
			if err := w.value(v[k], depth+1); err != nil {
				return err
			}
		}
		w.buf = append(w.buf, '}')
	case time.Time:
		w.buf = appendDate(w.buf, v)
	default:
		// Hand-built values only: the decoders return none of these.
		b, err := json.Marshal(v, jsonv1.DefaultOptionsV1(),
			jsontext.EscapeForHTML(false), jsontext.EscapeForJS(false))
		if err != nil {
			return err
		}
		w.buf = append(w.buf, b...)
	}
	return nil
}

// jsonEscapes marks the ASCII bytes JSON.stringify escapes, with their
// short escape letter, or 'u' for \u00xx.
var jsonEscapes = func() (t [utf8.RuneSelf]byte) {
	for c := range 0x20 {
		t[c] = 'u'
	}
	t['\b'], t['\f'], t['\n'], t['\r'], t['\t'] = 'b', 'f', 'n', 'r', 't'
	t['"'], t['\\'] = '"', '\\'
	return t
}()

const hexDigits = "0123456789abcdef"

// appendString appends s quoted as JSON.stringify quotes a string
// (QuoteJSONString): '"', '\\' and control characters escaped, lowercase
// hexadecimal, everything else as it is. A lone surrogate in generalized
// UTF-8 is escaped as JSON.stringify escapes one, a pair of them written
// as the character they form; other invalid UTF-8 bytes become U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	last := 0 // start of the bytes not yet appended
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonEscapes[c] == 0 {
				i++
				continue
			}
			b = append(b, s[last:i]...)
			if e := jsonEscapes[c]; e != 'u' {
				b = append(b, '\\', e)
			} else {
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			last = i
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r != utf8.RuneError || n != 1 {
			i += n
			continue
		}
		b = append(b, s[last:i]...)
		if u, ok := surrogateAt(s[i:]); ok {
			if lo, ok := surrogateAt(s[i+3:]); ok && u < 0xdc00 && lo >= 0xdc00 {
				// A pair, as Node's decoder reads it: one character.
				b = utf8.AppendRune(b, utf16.DecodeRune(rune(u), rune(lo)))
				i += 6
			} else {
				b = append(b, '\\', 'u', hexDigits[u>>12], hexDigits[u>>8&0xf], hexDigits[u>>4&0xf], hexDigits[u&0xf])
				i += 3
			}
		} else {
			b = append(b, "\ufffd"...)
			i++
		}
		last = i
	}
	b = append(b, s[last:]...)
	return append(b, '"')
}

// appendFloat appends f as ECMAScript's Number::toString writes it
// (jsontext's algorithm, except that -0 is 0), and NaN and infinities as
// null, as JSON.stringify does.
func appendFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return append(b, "null"...)
	case f == 0:
		return append(b, '0')
	}
	format := byte('f')
	if abs := math.Abs(f); abs < 1e-6 || abs >= 1e21 {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-07 to e-7 (Go writes at least two exponent digits).
		if n := len(b); b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// maxDate is the largest magnitude of a JavaScript Date, in milliseconds.
const maxDate = 8.64e15

// appendDate appends t as JSON.stringify writes the Date that Node's
// msgpack codec makes of it: its time in whole milliseconds (truncated
// toward zero, as the Date constructor does), in ISO 8601 with six-digit
// signed years outside 0 to 9999; null beyond the Date range.
func appendDate(b []byte, t time.Time) []byte {
	sec, nsec := t.Unix(), int64(t.Nanosecond())
	ms := sec*1000 + nsec/1e6
	if sec < 0 && nsec%1e6 != 0 {
		ms++ // the real value is negative: truncate toward zero
	}
	if sec > maxDate/1000+1 || sec < -maxDate/1000-1 || ms > maxDate || ms < -maxDate {
		return append(b, "null"...)
	}
	u := time.UnixMilli(ms).UTC()
	b = append(b, '"')
	if y := u.Year(); y < 0 || y > 9999 {
		if y < 0 {
			b = append(b, '-')
			y = -y
		} else {
			b = append(b, '+')
		}
		b = append(b, fmt.Sprintf("%06d", y)...)
		b = u.AppendFormat(b, "-01-02T15:04:05.000Z")
	} else {
		b = u.AppendFormat(b, "2006-01-02T15:04:05.000Z")
	}
	return append(b, '"')
}
