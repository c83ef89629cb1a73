package engineio

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// compressible returns n bytes of repetitive text.
func compressible(n int) string {
	return strings.Repeat("engine.io compresses well. ", n/27+1)[:n]
}

// noDecompressClient is a client whose transport leaves Content-Encoding
// alone, so the test sees the bytes the server wrote.
func (ts *testServer) noDecompressClient(t testing.TB) *client {
	c := ts.client(t)
	c.hc.Transport.(*http.Transport).DisableCompression = true
	return c
}

// decode undoes a Content-Encoding. "deflate" is the zlib format (RFC
// 1950), as HTTP defines it (RFC 9110 §8.4.1.2) and as Node's
// zlib.createDeflate, which engine.io uses, writes it.
func decode(t testing.TB, encoding string, body []byte) string {
	t.Helper()
	var r io.ReadCloser
	var err error
	switch encoding {
	case "":
		return string(body)
	case "gzip":
		r, err = gzip.NewReader(bytes.NewReader(body))
	case "deflate":
		r, err = zlib.NewReader(bytes.NewReader(body))
	default:
		t.Fatalf("unexpected encoding %q", encoding)
	}
	require.NoError(t, err, "%s body does not decode", encoding)
	defer r.Close()
	out, err := io.ReadAll(r)
	require.NoError(t, err, "%s body does not decode", encoding)
	return string(out)
}

// Node's polling transport compresses a response when some packet allows
// it, the payload is at least the threshold (1024 bytes) and the client
// accepts gzip or deflate.
func TestCompression_Polling(t *testing.T) {
	big := compressible(2000)
	binPayload := bytes.Repeat([]byte{1, 2, 3, 250}, 500)
	for _, tc := range []struct {
		name     string
		opts     HTTPCompression
		accept   string // Accept-Encoding; "" sends none
		send     func(*Session) error
		wantBody string
		wantEnc  string
	}{
		{"gzip", HTTPCompression{}, "gzip",
			func(s *Session) error { return s.Send([]byte(big)) }, "4" + big, "gzip"},
		{"payload exactly the threshold", HTTPCompression{}, "gzip",
			func(s *Session) error { return s.Send([]byte(big[:1023])) }, "4" + big[:1023], "gzip"},
		{"payload one byte below the threshold", HTTPCompression{}, "gzip",
			func(s *Session) error { return s.Send([]byte(big[:1022])) }, "4" + big[:1022], ""},
		{"deflate only", HTTPCompression{}, "deflate",
			func(s *Session) error { return s.Send([]byte(big)) }, "4" + big, "deflate"},
		{"browser header", HTTPCompression{}, "gzip, deflate, br, zstd",
			func(s *Session) error { return s.Send([]byte(big)) }, "4" + big, "gzip"},
		{"q-values prefer deflate", HTTPCompression{}, "gzip;q=0.5, deflate;q=0.8",
			func(s *Session) error { return s.Send([]byte(big)) }, "4" + big, "deflate"},
		{"gzip refused", HTTPCompression{}, "gzip;q=0",
			func(s *Session) error { return s.Send([]byte(big)) }, "4" + big, ""},
		{"wildcard", HTTPCompression{}, "*",
			func(s *Session) error { return s.Send([]byte(big)) }, "4" + big, "gzip"},
		{"identity only", HTTPCompression{}, "identity",
			func(s *Session) error { return s.Send([]byte(big)) }, "4" + big, ""},
		{"unsupported encoding only", HTTPCompression{}, "br",
			func(s *Session) error { return s.Send([]byte(big)) }, "4" + big, ""},
		{"no Accept-Encoding", HTTPCompression{}, "",
			func(s *Session) error { return s.Send([]byte(big)) }, "4" + big, ""},
		{"disabled", HTTPCompression{Disabled: true}, "gzip, deflate",
			func(s *Session) error { return s.Send([]byte(big)) }, "4" + big, ""},
		{"custom threshold", HTTPCompression{Threshold: 10}, "gzip",
			func(s *Session) error { return s.Send([]byte("0123456789")) }, "40123456789", "gzip"},
		{"binary", HTTPCompression{}, "gzip",
			func(s *Session) error { return s.SendBinary(binPayload) },
			"b" + base64.StdEncoding.EncodeToString(binPayload), "gzip"},
		{"without compression", HTTPCompression{}, "gzip, deflate",
			func(s *Session) error { return s.SendMessages(NewMessage([]byte(big), false).WithoutCompression()) }, "4" + big, ""},
		{"batch with one compressible packet", HTTPCompression{}, "gzip",
			func(s *Session) error {
				return s.SendMessages(NewMessage([]byte(big), false).WithoutCompression(), NewMessage([]byte("x"), false))
			}, "4" + big + "\x1e4x", "gzip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t, &Options{HTTPCompression: tc.opts}, nil)
			c := ts.noDecompressClient(t)
			sid := c.handshake()
			s := ts.rec.session(t)
			require.NoError(t, tc.send(s))
			hdr := map[string]string{}
			if tc.accept != "" {
				hdr["Accept-Encoding"] = tc.accept
			}
			res := c.do("GET", pollQuery(sid), "", hdr)
			require.Equal(t, http.StatusOK, res.status)
			assert.Equal(t, tc.wantEnc, res.header.Get("Content-Encoding"))
			assert.Equal(t, strconv.Itoa(len(res.body)), res.header.Get("Content-Length"), "length of the encoded body")
			assert.Equal(t, "text/plain; charset=UTF-8", res.header.Get("Content-Type"))
			got := decode(t, tc.wantEnc, []byte(res.body))
			assert.Equal(t, len(tc.wantBody), len(got))
			assert.True(t, got == tc.wantBody, "decoded payload differs")
			if tc.wantEnc != "" && len(tc.wantBody) > 1000 {
				assert.Less(t, len(res.body), len(tc.wantBody)/2, "compressed")
			}
		})
	}
}

// permessage-deflate is off unless asked for (RELIABILITY row 3).
func TestCompression_PerMessageDeflateOffByDefault(t *testing.T) {
	ts := newTestServer(t, nil, echoMessages)
	ws, res, _, err := ts.dialWSWith(t, websocket.Dialer{EnableCompression: true}, "EIO=4&transport=websocket", nil)
	require.NoError(t, err)
	assert.Empty(t, res.Header.Values("Sec-Websocket-Extensions"))
	parseOpen(t, ws.mustRead())
	ws.send("4" + compressible(5000))
	assert.Equal(t, "4"+compressible(5000), ws.mustRead())
}

func TestCompression_PerMessageDeflate(t *testing.T) {
	ts := newTestServer(t, &Options{PerMessageDeflate: &PerMessageDeflate{}}, echoMessages)
	ws, res, read, err := ts.dialWSWith(t, websocket.Dialer{EnableCompression: true}, "EIO=4&transport=websocket", nil)
	require.NoError(t, err)
	assert.Contains(t, res.Header.Get("Sec-Websocket-Extensions"), "permessage-deflate")
	parseOpen(t, ws.mustRead())
	s := ts.rec.session(t)

	const size = 100_000
	text := compressible(size)
	bin := bytes.Repeat([]byte{0, 1, 2, 3, 4, 5, 6, 7}, size/8)

	// Round trips through OnMessage → Send / SendBinary.
	before := read.Load()
	ws.send("4" + text)
	got := ws.mustRead()
	assert.Equal(t, len(text)+1, len(got))
	assert.True(t, got == "4"+text, "text echo differs")
	ws.sendBinary(bin)
	got = ws.mustRead()
	assert.True(t, got == "bin:"+string(bin), "binary echo differs")
	assert.Less(t, read.Load()-before, int64(size/5), "the server compressed its messages")

	// A message created WithoutCompression goes out as is.
	before = read.Load()
	require.NoError(t, s.SendMessages(NewMessage([]byte(text), false).WithoutCompression()))
	got = ws.mustRead()
	assert.True(t, got == "4"+text, "uncompressed message differs")
	assert.GreaterOrEqual(t, read.Load()-before, int64(size), "not compressed")

	// So does a message below the threshold (1024 bytes).
	before = read.Load()
	small := compressible(1000)
	require.NoError(t, s.Send([]byte(small)))
	assert.Equal(t, "4"+small, ws.mustRead())
	assert.GreaterOrEqual(t, read.Load()-before, int64(1000), "below the threshold: not compressed")

	// A message shared by compressing and plain sessions reaches both.
	plain := ts.mustDialWS(t, "EIO=4&transport=websocket")
	parseOpen(t, plain.mustRead())
	s2 := ts.rec.session(t)
	shared := NewMessage([]byte(text), false)
	require.NoError(t, s.SendMessages(shared))
	require.NoError(t, s2.SendMessages(shared))
	assert.True(t, ws.mustRead() == "4"+text)
	assert.True(t, plain.mustRead() == "4"+text)
}

// RELIABILITY row 3: a small compressed message that inflates past
// MaxHTTPBufferSize closes the session once the inflated bytes exceed the
// limit, without inflating the rest; the client gets close code 1009, as
// from Node's ws ("Max payload size exceeded").
func TestCompression_DecompressionBomb(t *testing.T) {
	const limit = 64 << 10
	ts := newTestServer(t, &Options{PerMessageDeflate: &PerMessageDeflate{}, MaxHTTPBufferSize: limit}, echoMessages)
	ws, res, _, err := ts.dialWSWith(t, websocket.Dialer{EnableCompression: true}, "EIO=4&transport=websocket", nil)
	require.NoError(t, err)
	require.Contains(t, res.Header.Get("Sec-Websocket-Extensions"), "permessage-deflate")
	parseOpen(t, ws.mustRead())

	// The bomb: 10 MB of zeros, a few KB on the wire, well under the read
	// limit gorilla applies to wire bytes.
	bomb := make([]byte, 10<<20)
	bomb[0] = '4'
	for i := 1; i < len(bomb); i++ {
		bomb[i] = '0'
	}
	var probe bytes.Buffer
	fw, _ := flate.NewWriter(&probe, flate.BestSpeed) // gorilla's default level
	_, _ = fw.Write(bomb)
	_ = fw.Close()
	require.Less(t, probe.Len(), limit/2, "the compressed bomb must pass the wire limit")
	ws.conn.EnableWriteCompression(true)

	allocBefore := totalAlloc()
	writeErr := ws.conn.WriteMessage(websocket.TextMessage, bomb)
	ev := ts.rec.closed(t)
	allocated := totalAlloc() - allocBefore

	assert.Equal(t, ReasonTransportError, ev.reason)
	assert.ErrorIs(t, ev.err, ErrPayloadTooLarge)
	assert.Less(t, allocated, uint64(8<<20), "allocation bounded by the limit, not by the inflated size")
	assert.Zero(t, ts.ClientsCount())
	assert.Empty(t, ts.rec.messages, "nothing delivered")
	_ = writeErr // the server may cut the connection while the client writes

	err = ws.expectClosed()
	var ce *websocket.CloseError
	if assert.True(t, errors.As(err, &ce), "want a close frame, got %v", err) {
		assert.Equal(t, websocket.CloseMessageTooBig, ce.Code, "close code for an oversized message")
	}
}
