package engineio

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHandshake_Polling(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	c := ts.client(t)
	res := c.get("EIO=4&transport=polling&token=a%20b&x=1&x=2")
	require.Equal(t, http.StatusOK, res.status)
	assert.Equal(t, "text/plain; charset=UTF-8", res.header.Get("Content-Type"))
	assert.Equal(t, "no-store", res.header.Get("Cache-Control"))
	require.True(t, strings.HasPrefix(res.body, "0"), res.body)

	// Exactly Node's fields, in Node's order.
	sid := sidOf(t, res.body)
	assert.Equal(t, `0{"sid":"`+sid+`","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`, res.body)
	assert.Len(t, sid, 20, "15 random bytes, base64url")

	s := ts.rec.session(t)
	assert.Equal(t, sid, s.ID())
	assert.Equal(t, TransportPolling, s.Transport())
	assert.Equal(t, url.Values{"EIO": {"4"}, "transport": {"polling"}, "token": {"a b"}, "x": {"1", "2"}}, s.Query())
	assert.Equal(t, s.Request().URL.Query(), s.Query())
	assert.Equal(t, 1, ts.ClientsCount())
	assert.Same(t, s, ts.Session(sid))
}

func TestHandshake_WebSocket(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	ws := ts.mustDialWS(t, "EIO=4&transport=websocket")
	open := ws.mustRead()
	var hs map[string]any
	require.NoError(t, json.Unmarshal([]byte(open[1:]), &hs))
	assert.Equal(t, byte('0'), open[0])
	assert.Equal(t, []any{}, hs["upgrades"], "no upgrade from WebSocket")
	assert.Len(t, hs, 5)
	s := ts.rec.session(t)
	assert.Equal(t, TransportWebSocket, s.Transport())
	assert.Equal(t, hs["sid"], s.ID())
	assert.Equal(t, url.Values{"EIO": {"4"}, "transport": {"websocket"}}, s.Query())
}

func TestHandshake_UniqueIDs(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	c := ts.client(t)
	seen := map[string]bool{}
	for range 50 {
		sid := c.handshake()
		require.False(t, seen[sid], "duplicate sid %s", sid)
		seen[sid] = true
	}
}

// TestHandshake_Rejected checks every refusal of Node's verify() and
// handshake(): status, JSON body, and that no session was created
// (RELIABILITY rows 7 and 8).
func TestHandshake_Rejected(t *testing.T) {
	for _, tc := range []struct {
		name, method, query string
		header              map[string]string
		status              int
		body                string
		code                ErrorCode
		context             string
	}{
		{"no transport", "GET", "EIO=4", nil, 400, `{"code":0,"message":"Transport unknown"}`, CodeUnknownTransport, ""},
		{"unknown transport", "GET", "EIO=4&transport=tobi", nil, 400, `{"code":0,"message":"Transport unknown"}`, CodeUnknownTransport, ""},
		{"constructor transport", "GET", "EIO=4&transport=constructor", nil, 400, `{"code":0,"message":"Transport unknown"}`, CodeUnknownTransport, ""},
		{"no EIO", "GET", "transport=polling", nil, 400, `{"code":5,"message":"Unsupported protocol version"}`, CodeUnsupportedProtocolVersion, ""},
		{"EIO 3", "GET", "EIO=3&transport=polling", nil, 400, `{"code":5,"message":"Unsupported protocol version"}`, CodeUnsupportedProtocolVersion, ""},
		{"EIO abc", "GET", "EIO=abc&transport=polling", nil, 400, `{"code":5,"message":"Unsupported protocol version"}`, CodeUnsupportedProtocolVersion, ""},
		{"POST handshake", "POST", "EIO=4&transport=polling", nil, 400, `{"code":2,"message":"Bad handshake method"}`, CodeBadHandshakeMethod, ""},
		{"PUT handshake", "PUT", "EIO=4&transport=polling", nil, 400, `{"code":2,"message":"Bad handshake method"}`, CodeBadHandshakeMethod, ""},
		{"websocket without upgrade", "GET", "EIO=4&transport=websocket", nil, 400, `{"code":3,"message":"Bad request"}`, CodeBadRequest, "TRANSPORT_HANDSHAKE_ERROR"},
		{"unknown sid", "GET", "EIO=4&transport=polling&sid=nope", nil, 400, `{"code":1,"message":"Session ID unknown"}`, CodeUnknownSID, ""},
		{"unknown sid POST", "POST", "EIO=4&transport=polling&sid=nope", nil, 400, `{"code":1,"message":"Session ID unknown"}`, CodeUnknownSID, ""},
		{"invalid origin", "GET", "EIO=4&transport=polling", map[string]string{"Origin": "http://a\x01b"}, 400, `{"code":3,"message":"Bad request"}`, CodeBadRequest, "INVALID_ORIGIN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got *ConnectionError
			srv, err := New(&Options{OnConnectionError: func(e *ConnectionError) { got = e }})
			require.NoError(t, err)
			connected := false
			srv.OnConnection(func(*Session) { connected = true })
			// ServeHTTP directly: net/http itself refuses some of these
			// headers before a handler could see them.
			req := httptest.NewRequest(tc.method, "/engine.io/?"+tc.query, nil)
			for k, v := range tc.header {
				req.Header[k] = []string{v}
			}
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, req)
			assert.Equal(t, tc.status, w.Code)
			assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
			assert.JSONEq(t, tc.body, w.Body.String())
			assert.Equal(t, tc.body, w.Body.String(), "exact bytes: clients parse them")
			require.NotNil(t, got, "OnConnectionError not called")
			assert.Equal(t, tc.code, got.Code)
			assert.Equal(t, tc.context, got.Context)
			assert.Same(t, req, got.Request)
			assert.False(t, connected)
			assert.Zero(t, srv.ClientsCount())
			require.NoError(t, srv.Close())
		})
	}
}

func TestHandshake_TransportMismatch(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	ws := ts.mustDialWS(t, "EIO=4&transport=websocket")
	sid := sidOf(t, ws.mustRead())
	// A polling request for a WebSocket session (Node: TRANSPORT_MISMATCH).
	res := ts.client(t).get(pollQuery(sid))
	assert.Equal(t, 400, res.status)
	assert.Equal(t, `{"code":3,"message":"Bad request"}`, res.body)
	// The session itself is unaffected.
	ws.send("4still here")
	assert.Equal(t, message{"still here", false}, ts.rec.message(t))
}

func TestHandshake_AllowRequestWebSocket(t *testing.T) {
	ts := newTestServer(t, &Options{AllowRequest: func(*http.Request) error { return errors.New("go away") }}, nil)
	_, res, err := ts.dialWS(t, "EIO=4&transport=websocket", nil)
	require.Error(t, err)
	require.NotNil(t, res)
	defer res.Body.Close()
	// Node's abortUpgrade answers a plain message; gosio keeps 403 for
	// Forbidden.
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Zero(t, ts.ClientsCount())
}

func TestHandshake_AfterCloseRefused(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	require.NoError(t, ts.Close())
	res := ts.client(t).get("EIO=4&transport=polling")
	assert.Equal(t, http.StatusServiceUnavailable, res.status)
	assert.ErrorIs(t, ts.Close(), ErrServerClosed)
}

func TestErrorCodeMessages(t *testing.T) {
	assert.Equal(t, "Transport unknown", CodeUnknownTransport.Message())
	assert.Equal(t, "Session ID unknown", CodeUnknownSID.Message())
	assert.Equal(t, "Bad handshake method", CodeBadHandshakeMethod.Message())
	assert.Equal(t, "Bad request", CodeBadRequest.Message())
	assert.Equal(t, "Forbidden", CodeForbidden.Message())
	assert.Equal(t, "Unsupported protocol version", CodeUnsupportedProtocolVersion.Message())
	e := &ConnectionError{Code: CodeForbidden, Message: "nope", Err: errors.New("inner")}
	assert.ErrorContains(t, e, "nope")
	assert.Equal(t, "inner", errors.Unwrap(e).Error())
}
