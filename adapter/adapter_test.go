package adapter_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/engineio"
	"github.com/gosio/gosio/socketio/parser"
)

func TestEncode(t *testing.T) {
	tests := []struct {
		name string
		p    *parser.Packet
		// want is the text frame, then the binary attachments.
		wantText   string
		wantBinary [][]byte
	}{
		{
			name:     "event",
			p:        &parser.Packet{Type: parser.Event, Namespace: "/", Data: jsontext.Value(`["hello",1]`)},
			wantText: `2["hello",1]`,
		},
		{
			name:     "event with ack id in a namespace",
			p:        &parser.Packet{Type: parser.Event, Namespace: "/chat", ID: 12, HasID: true, Data: jsontext.Value(`["hi"]`)},
			wantText: `2/chat,12["hi"]`,
		},
		{
			name: "binary event",
			p: &parser.Packet{
				Type: parser.BinaryEvent, Namespace: "/",
				Data:        jsontext.Value(`["file",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`),
				Attachments: [][]byte{{1, 2, 3}, {}},
			},
			wantText:   `52-["file",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`,
			wantBinary: [][]byte{{1, 2, 3}, {}},
		},
		{
			name:     "disconnect",
			p:        &parser.Packet{Type: parser.Disconnect, Namespace: "/admin"},
			wantText: `1/admin,`,
		},
	}
	for _, tt := range tests {
		for _, noCompress := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/noCompress=%t", tt.name, noCompress), func(t *testing.T) {
				enc := adapter.Encode(tt.p, noCompress)
				assert.Same(t, tt.p, enc.Packet, "Encoded keeps the packet")
				require.Len(t, enc.Messages, 1+len(tt.wantBinary), "one text message, then one binary message per attachment")

				want := []*engineio.Message{engineio.NewMessage([]byte(tt.wantText), false)}
				for _, b := range tt.wantBinary {
					want = append(want, engineio.NewMessage(b, true))
				}
				for i, m := range enc.Messages {
					assert.Equal(t, want[i].Binary(), m.Binary(), "message %d: binary", i)
					assert.Equal(t, string(want[i].Data()), string(m.Data()), "message %d: data", i)
					// The compression mark has no accessor: compare with
					// messages built through engineio's public API.
					uncompressed := want[i].WithoutCompression()
					if noCompress {
						assert.True(t, reflect.DeepEqual(uncompressed, m), "message %d must be marked WithoutCompression", i)
					} else {
						assert.True(t, reflect.DeepEqual(want[i], m), "message %d must not be marked WithoutCompression", i)
						assert.False(t, reflect.DeepEqual(uncompressed, m), "message %d: the mark is visible to the comparison", i)
					}
				}
			})
		}
	}
}

func TestPartialError(t *testing.T) {
	for _, cause := range []error{context.DeadlineExceeded, context.Canceled} {
		t.Run(cause.Error(), func(t *testing.T) {
			pe := &adapter.PartialError{Expected: 3, Received: 1, Missing: []string{"node-b", "node-c"}, Err: cause}
			err := fmt.Errorf("socketio: fetchSockets: %w", pe)

			var got *adapter.PartialError
			require.ErrorAs(t, err, &got, "errors.As finds the PartialError through wrapping")
			assert.Same(t, pe, got)
			assert.ErrorIs(t, err, cause, "errors.Is reaches the cause through Unwrap")
			assert.NotErrorIs(t, err, adapter.ErrClosed)
			assert.Equal(t, "adapter: 1 of 3 responses (missing [node-b node-c]): "+cause.Error(), pe.Error())
		})
	}
}

func TestPartialError_UnknownMissing(t *testing.T) {
	pe := &adapter.PartialError{Expected: 2, Received: 0, Err: context.DeadlineExceeded}
	assert.Equal(t, "adapter: 0 of 2 responses (missing []): context deadline exceeded", pe.Error())
	assert.True(t, errors.Is(pe, context.DeadlineExceeded))
}
