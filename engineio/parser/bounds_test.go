package parser

import (
	"bytes"
	"errors"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Appending to a decoded packet's data must not overwrite the next packet
// or the caller's buffer.
func TestDecode_NoSpareCapacity(t *testing.T) {
	input := []byte("4a\x1e4bcd")
	ps, err := DecodePayload(input)
	require.NoError(t, err)
	_ = append(ps[0].Data, "XYZ"...)
	assert.Equal(t, "4a\x1e4bcd", string(input))
	assert.Equal(t, "bcd", string(ps[1].Data))

	frame := make([]byte, 3, 64)
	copy(frame, "4hi")
	p, err := DecodePacket(frame, false)
	require.NoError(t, err)
	assert.Equal(t, len(p.Data), cap(p.Data))
	p, err = DecodePacket(frame, true)
	require.NoError(t, err)
	assert.Equal(t, len(p.Data), cap(p.Data))
}

// Packets allocates nothing per packet, whatever the number of
// separators: a 1 MB payload of separators (the default
// MaxHTTPBufferSize) or of empty messages stays cheap.
func TestPackets_AllocationBounded(t *testing.T) {
	for name, payload := range map[string][]byte{
		"separators":     bytes.Repeat([]byte{RecordSeparator}, 1_000_000),
		"empty messages": bytes.Repeat([]byte("4\x1e"), 500_000),
	} {
		t.Run(name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			n := 0
			var lastErr error
			for _, err := range Packets(payload) {
				if err != nil {
					lastErr = err
					break
				}
				n++
			}
			runtime.ReadMemStats(&after)
			assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(64<<10), "allocated per packet")
			if name == "separators" {
				assert.True(t, errors.Is(lastErr, ErrInvalidPayload))
				assert.Zero(t, n)
			} else {
				assert.Equal(t, 500_000, n)
				assert.True(t, errors.Is(lastErr, ErrInvalidPayload), "trailing separator")
			}
		})
	}
}

func TestPackets_StopEarly(t *testing.T) {
	n := 0
	for range Packets([]byte("4a\x1e4b\x1e4c")) {
		n++
		if n == 2 {
			break
		}
	}
	assert.Equal(t, 2, n)
}
