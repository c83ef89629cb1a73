package parser_test

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/gosio/socketio/parser"
)

// jsonDepthLimit is jsontext's nesting limit, which the Decoder inherits.
const jsonDepthLimit = 10000

// bomb is a frame built to be expensive (RELIABILITY.md row 28: JSON
// bombs inside a 1 MB packet; row 17: attacker-declared sizes).
type bomb struct {
	name    string
	in      string
	bins    int   // binary frames to send after the text frame
	wantErr error // nil: must decode
}

// bombs returns the bombs with strings of mb bytes and nesting around
// depth levels: 1 MB and the depth limit for the tests, less as fuzz
// seeds (the fuzzer spends a long time minimizing big inputs).
func bombs(mb, depth int) []bomb {
	deepArrays := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	deepObjects := func(n int) string { return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) }
	digits := strings.Repeat("1", mb)
	return []bomb{
		// The payload's own array is one level: 1+9999 levels is the limit.
		{name: "10000-deep arrays", in: `2["a",` + deepArrays(depth-1) + `]`},
		{name: "10001-deep arrays", in: `2["a",` + deepArrays(depth) + `]`, wantErr: parser.ErrInvalidPacket},
		{name: "100000-deep arrays", in: `2["a",` + deepArrays(10*depth) + `]`, wantErr: parser.ErrInvalidPacket},
		{name: "10000-deep objects", in: `2["a",` + deepObjects(depth-1) + `]`},
		{name: "10001-deep objects", in: `2["a",` + deepObjects(depth) + `]`, wantErr: parser.ErrInvalidPacket},
		{name: "unclosed arrays", in: `2["a",` + strings.Repeat("[", mb/2), wantErr: parser.ErrInvalidPacket},
		{name: "100k tiny objects", in: `2["a"` + strings.Repeat(`,{}`, mb/10) + `]`},
		{name: "100k numbers", in: `2["a"` + strings.Repeat(`,1`, mb/10) + `]`},
		{name: "100k placeholders", in: `51-["a"` + strings.Repeat(`,`+ph0, mb/10) + `]`, bins: 1},
		{name: "1 MB number", in: `2["a",` + digits + `]`},
		{name: "1 MB number as event name", in: `2[` + digits + `]`},
		{name: "1 MB fraction", in: `2["a",0.` + digits + `]`},
		{name: "1 MB exponent", in: `2["a",1e` + digits + `]`},
		{name: "1 MB string", in: `2["` + strings.Repeat("a", mb) + `"]`},
		{name: "1 MB escapes", in: `2["a","` + strings.Repeat(`\u00e9`, mb/6) + `"]`},
		{name: "1 MB name", in: `2["a",{"` + strings.Repeat("a", mb) + `":1}]`},
		{name: "1 MB escaped name", in: `51-["a",{"` + strings.Repeat(`\u005f`, mb/6) + `":true,"num":0}]`, bins: 1},
		{name: "1 MB placeholder num", in: `51-["a",{"_placeholder":true,"num":` + digits + `}]`, wantErr: parser.ErrIllegalAttachments},
		{name: "1 MB placeholder fraction", in: `51-["a",{"_placeholder":true,"num":0.` + strings.Repeat("0", mb) + `}]`, bins: 1},
		{name: "1 MB ack id", in: `2` + digits + `["a"]`, wantErr: parser.ErrInvalidPacket},
		{name: "1 MB attachment count", in: `5` + digits + `-["a"]`, wantErr: parser.ErrTooManyAttachments},
		{name: "1 MB attachment count without dash", in: `5` + digits, wantErr: parser.ErrIllegalAttachments},
		{name: "1 MB namespace", in: `2/` + strings.Repeat("a", mb) + `,["a"]`},
		{name: "1 MB whitespace", in: `2` + strings.Repeat(" ", mb) + `["a"]`},
		{name: "100k duplicate names", in: `2["a",{` + strings.Repeat(`"a":1,`, mb/10) + `"a":1}]`},
	}
}

// TestDecoder_Bombs: every bomb decodes or fails with the right error,
// in bounded time and memory, without overflowing the stack.
func TestDecoder_Bombs(t *testing.T) {
	for _, b := range bombs(1<<20, jsonDepthLimit) {
		t.Run(b.name, func(t *testing.T) {
			in := []byte(b.in)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()

			var d parser.Decoder
			p, err := d.Add(in, false)
			for i := 0; err == nil && i < b.bins; i++ {
				p, err = d.Add([]byte("bin"), true)
			}

			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)
			if b.wantErr != nil {
				require.ErrorIs(t, err, b.wantErr)
			} else {
				require.NoError(t, err)
				require.NotNil(t, p)
			}
			// Generous bounds for -race and slow CI machines: the
			// point is linear, not quadratic or exponential.
			assert.Less(t, elapsed, 2*time.Second, "decode time")
			assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(2*len(in)+1<<20), "allocated")
			t.Logf("%d bytes in %v, %d bytes allocated", len(in), elapsed, after.TotalAlloc-before.TotalAlloc)
		})
	}
}

// TestUnmarshal_Bombs: the application-side decoding of an accepted
// bomb is bounded too (encoding/json v2 recurses per nesting level, up to
// the depth limit).
func TestUnmarshal_Bombs(t *testing.T) {
	for _, b := range bombs(1<<20, jsonDepthLimit) {
		if b.wantErr != nil {
			continue
		}
		t.Run(b.name, func(t *testing.T) {
			var d parser.Decoder
			p, err := d.Add([]byte(b.in), false)
			for i := 0; err == nil && i < b.bins; i++ {
				p, err = d.Add([]byte("bin"), true)
			}
			require.NoError(t, err)
			start := time.Now()
			var v any
			_ = parser.Unmarshal(p.Data, p.Attachments, &v) // 1e+1048576 does not fit a float64
			_, err = parser.Elements(p.Data)
			require.NoError(t, err)
			assert.Less(t, time.Since(start), 5*time.Second)
		})
	}
}

// TestDecoder_DeclaredCountNotAllocated: a huge declared attachment count
// allocates nothing in proportion (RELIABILITY.md row 17; googollee's
// make([]Buffer, count), netty-socketio #945).
func TestDecoder_DeclaredCountNotAllocated(t *testing.T) {
	d := parser.Decoder{MaxAttachments: 1 << 30}
	text := []byte(`51000000000-["a",` + ph0 + `]`)
	allocs := testing.AllocsPerRun(10, func() {
		d.Reset()
		if _, err := d.Add(text, false); err != nil {
			t.Fatal(err)
		}
	})
	assert.LessOrEqual(t, allocs, 10.0)

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	d.Reset()
	_, err := d.Add(text, false)
	require.NoError(t, err)
	for range 100 {
		p, err := d.Add([]byte("x"), true)
		require.NoError(t, err)
		require.Nil(t, p)
	}
	runtime.ReadMemStats(&after)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(64<<10))
	assert.True(t, d.Pending())
}

// TestDecoder_Allocs: a small event decodes with a handful of
// allocations, none proportional to its size.
func TestDecoder_Allocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts vary under the race detector")
	}
	small := []byte(`2/chat,12["message",{"text":"hello","n":[1,2,3]}]`)
	large := []byte(`2["message","` + strings.Repeat("x", 64<<10) + `"]`)
	var d parser.Decoder
	smallAllocs := testing.AllocsPerRun(100, func() {
		if _, err := d.Add(small, false); err != nil {
			t.Fatal(err)
		}
	})
	largeAllocs := testing.AllocsPerRun(100, func() {
		if _, err := d.Add(large, false); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("small: %v allocs, 64 KB: %v allocs", smallAllocs, largeAllocs)
	assert.LessOrEqual(t, smallAllocs, 8.0, "Packet and namespace (the JSON decoders are pooled)")
	assert.LessOrEqual(t, largeAllocs, smallAllocs)
}
