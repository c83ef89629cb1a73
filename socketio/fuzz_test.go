package socketio

import (
	"bytes"
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzServerFrames feeds arbitrary Socket.IO frame sequences to a real
// server (RELIABILITY row 21): the input is split on '\n' into frames,
// each sent as one Engine.IO message (a frame starting with '!' as a
// binary message of the rest) after a CONNECT, through the polling
// transport, in-process. Properties: no panic, and the server shuts down
// cleanly afterwards (no stuck handler, no leaked goroutine).
func FuzzServerFrames(f *testing.F) {
	for _, seed := range []string{
		`2["echo",1,"a",{"b":[true,null]}]`,
		"21[\"echo\",1]\n3[\"x\"]\n399[\"late\"]",
		"51-[\"echo\",{\"_placeholder\":true,\"num\":0}]\n!\x01\x02\x03",
		"52-[\"echo\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]\n!a\n2[\"text while pending\"]",
		"!binary without packet",
		"0/custom,\n2/custom,[\"echo\"]\n1/custom,\n2/custom,[\"after\"]",
		"0/dyn-1,{\"token\":1}\n2/dyn-1,5[\"echo\"]",
		"0\n0",
		"1\n2[\"after disconnect\"]",
		"4{\"message\":\"x\"}",
		"2[\"disconnect\"]", "2[]", "2{}", "2abc[\"x\"]", "511-[\"x\"]", "5-1-[]",
		"51-[\"x\",{\"_placeholder\":true,\"num\":1.5}]",
		"29007199254740992[\"x\"]",
		"2[" + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + "]",
		"2[\"panic\"]\n2[\"echo\"]",
		"", "\n\n\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		srv, err := New(&Options{Logger: slog.New(slog.DiscardHandler), OnError: func(*Socket, error) {}})
		if err != nil {
			t.Fatal(err)
		}
		srv.OfRegexp(mustRegexp(`^/dyn-\d+$`))
		srv.Of("/custom")
		srv.On("echo", func(ctx context.Context, ev *Event) error {
			var args []any
			for i := range ev.NumArgs() {
				var v any
				if ev.Scan(append(make([]any, i), &v)...) == nil {
					args = append(args, v)
				}
			}
			if ev.HasAck() {
				_ = ev.Ack(args...)
			}
			return ev.Socket().Emit("echo", args...)
		})
		srv.On("panic", func(context.Context, *Event) error { panic("fuzz") })

		sid := fuzzHandshake(t, srv)
		var payload bytes.Buffer
		payload.WriteString("40")
		for frame := range bytes.SplitSeq(data, []byte{'\n'}) {
			payload.WriteByte(0x1e)
			if len(frame) > 0 && frame[0] == '!' {
				payload.WriteByte('b')
				payload.WriteString(base64.StdEncoding.EncodeToString(frame[1:]))
				continue
			}
			payload.WriteByte('4')
			payload.Write(frame)
		}
		req := httptest.NewRequest(http.MethodPost, "/socket.io/?EIO=4&transport=polling&sid="+sid, &payload)
		req.Header.Set("Content-Type", "text/plain")
		srv.ServeHTTP(httptest.NewRecorder(), req)
		if err := srv.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

func fuzzHandshake(t testing.TB, srv *Server) string {
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/socket.io/?EIO=4&transport=polling", nil))
	body := w.Body.String()
	i := strings.Index(body, `"sid":"`)
	if i < 0 {
		panic("handshake failed: " + body)
	}
	return body[i+7 : i+27]
}
