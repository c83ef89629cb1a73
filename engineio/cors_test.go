package engineio

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// CORS as Node's engine.io does it with its cors option (the "cors" npm
// module), and the WebSocket origin check of RELIABILITY row 16.

const (
	corsGoodOrigin = "https://app.example"
	corsEvilOrigin = "http://evil.example"
)

var corsDefaultMethods = "GET,HEAD,PUT,PATCH,POST,DELETE"

// Preflight, as in engine.io's test "should allow CORS from the current
// origin (preflight request)": 204, empty body, Content-Length 0, the
// cors module's default methods, requested headers reflected.
func TestCORS_Preflight(t *testing.T) {
	errs := newConnErrors()
	ts := newTestServer(t, &Options{
		CORS:              &CORS{AllowOrigins: []string{corsGoodOrigin}, AllowCredentials: true, MaxAge: 10 * time.Minute},
		OnConnectionError: errs.hook,
	}, nil)
	res := ts.client(t).do("OPTIONS", "EIO=4&transport=polling", "", map[string]string{
		"Origin":                         corsGoodOrigin,
		"Access-Control-Request-Method":  "POST",
		"Access-Control-Request-Headers": "content-type,x-token",
	})
	assert.Equal(t, http.StatusNoContent, res.status)
	assert.Empty(t, res.body)
	assert.Equal(t, corsGoodOrigin, res.header.Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "true", res.header.Get("Access-Control-Allow-Credentials"))
	assert.Equal(t, corsDefaultMethods, res.header.Get("Access-Control-Allow-Methods"))
	assert.Equal(t, "content-type,x-token", res.header.Get("Access-Control-Allow-Headers"))
	assert.Equal(t, "600", res.header.Get("Access-Control-Max-Age"))
	// The handler sets Content-Length: 0 as the cors module does (Safari
	// waits for a body without it), but net/http strips it from every 204
	// on the wire (RFC 9110 §8.6), so look at the handler's own header.
	req := httptest.NewRequest("OPTIONS", "/engine.io/?EIO=4&transport=polling", nil)
	req.Header.Set("Origin", corsGoodOrigin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	w := httptest.NewRecorder()
	ts.ServeHTTP(w, req)
	assert.Equal(t, http.StatusNoContent, w.Code)
	assert.Equal(t, "0", w.Header().Get("Content-Length"))
	assert.Zero(t, w.Body.Len())
	vary := headerValues(res.header, "Vary")
	assert.Contains(t, vary, "Origin")
	assert.Contains(t, vary, "Access-Control-Request-Headers")
	assert.Zero(t, ts.ClientsCount(), "a preflight is not a handshake")
	errs.none(t)
}

func TestCORS_PreflightVariants(t *testing.T) {
	preflight := map[string]string{
		"Origin":                        corsGoodOrigin,
		"Access-Control-Request-Method": "POST",
	}
	t.Run("no MaxAge, no requested headers", func(t *testing.T) {
		ts := newTestServer(t, &Options{CORS: &CORS{AllowOrigins: []string{corsGoodOrigin}}}, nil)
		res := ts.client(t).do("OPTIONS", "EIO=4&transport=polling", "", preflight)
		assert.Equal(t, http.StatusNoContent, res.status)
		assert.Equal(t, corsGoodOrigin, res.header.Get("Access-Control-Allow-Origin"))
		assert.Empty(t, res.header.Values("Access-Control-Max-Age"))
		assert.Empty(t, res.header.Values("Access-Control-Allow-Headers"))
		assert.Empty(t, res.header.Values("Access-Control-Allow-Credentials"), "AllowCredentials not set")
	})
	t.Run("explicit methods and headers", func(t *testing.T) {
		ts := newTestServer(t, &Options{CORS: &CORS{
			AllowOrigins: []string{corsGoodOrigin},
			AllowMethods: []string{"GET", "POST"},
			AllowHeaders: []string{"my-header", "x-other"},
		}}, nil)
		hdr := map[string]string{"Access-Control-Request-Headers": "x-ignored"}
		for k, v := range preflight {
			hdr[k] = v
		}
		res := ts.client(t).do("OPTIONS", "EIO=4&transport=polling", "", hdr)
		assert.Equal(t, http.StatusNoContent, res.status)
		assert.Equal(t, "GET,POST", res.header.Get("Access-Control-Allow-Methods"))
		assert.Equal(t, "my-header,x-other", res.header.Get("Access-Control-Allow-Headers"), "configured headers, not the requested ones")
	})
	t.Run("disallowed origin", func(t *testing.T) {
		// engine.io test "should disallow CORS from a bad origin": the
		// preflight is answered, without Access-Control-Allow-Origin.
		ts := newTestServer(t, &Options{CORS: &CORS{AllowOrigins: []string{corsGoodOrigin}}}, nil)
		res := ts.client(t).do("OPTIONS", "EIO=4&transport=polling", "", map[string]string{
			"Origin":                        corsEvilOrigin,
			"Access-Control-Request-Method": "POST",
		})
		assert.Equal(t, http.StatusNoContent, res.status)
		assert.Empty(t, res.header.Values("Access-Control-Allow-Origin"))
		assert.Contains(t, headerValues(res.header, "Vary"), "Origin")
	})
	t.Run("any origin", func(t *testing.T) {
		ts := newTestServer(t, &Options{CORS: &CORS{AllowAnyOrigin: true}}, nil)
		res := ts.client(t).do("OPTIONS", "EIO=4&transport=polling", "", map[string]string{
			"Origin":                        corsEvilOrigin,
			"Access-Control-Request-Method": "GET",
		})
		assert.Equal(t, http.StatusNoContent, res.status)
		assert.Equal(t, "*", res.header.Get("Access-Control-Allow-Origin"))
		assert.NotContains(t, headerValues(res.header, "Vary"), "Origin", "a fixed answer does not vary")
	})
}

// Actual (non-preflight) requests: the origin is reflected only when
// allowed, with Vary: Origin, credentials and exposed headers; the
// preflight-only headers are absent.
func TestCORS_ActualRequests(t *testing.T) {
	var funcSaw atomic.Pointer[http.Request]
	for _, tc := range []struct {
		name       string
		cors       *CORS
		origin     string // "" sends no Origin
		wantOrigin string // "" expects no Access-Control-Allow-Origin
		wantVary   bool
		wantCreds  bool
	}{
		{"listed origin", &CORS{AllowOrigins: []string{"https://other.example", corsGoodOrigin}, AllowCredentials: true}, corsGoodOrigin, corsGoodOrigin, true, true},
		{"origin func", &CORS{AllowOriginFunc: func(o string, r *http.Request) bool {
			funcSaw.Store(r)
			return strings.HasSuffix(o, ".example")
		}, AllowCredentials: true}, corsGoodOrigin, corsGoodOrigin, true, true},
		{"origin func refuses", &CORS{AllowOriginFunc: func(string, *http.Request) bool { return false }}, corsGoodOrigin, "", true, false},
		{"disallowed origin", &CORS{AllowOrigins: []string{corsGoodOrigin}, AllowCredentials: true}, corsEvilOrigin, "", true, false},
		{"origin differs in case", &CORS{AllowOrigins: []string{corsGoodOrigin}}, strings.ToUpper(corsGoodOrigin), "", true, false},
		{"no origin", &CORS{AllowOrigins: []string{corsGoodOrigin}}, "", "", true, false},
		{"any origin", &CORS{AllowAnyOrigin: true}, corsEvilOrigin, "*", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t, &Options{CORS: tc.cors}, nil)
			hdr := map[string]string{}
			if tc.origin != "" {
				hdr["Origin"] = tc.origin
			}
			res := ts.client(t).do("GET", "EIO=4&transport=polling", "", hdr)
			require.Equal(t, http.StatusOK, res.status, res.body)
			require.True(t, strings.HasPrefix(res.body, "0{"), "the handshake itself is served: %s", res.body)
			if tc.wantOrigin == "" {
				assert.Empty(t, res.header.Values("Access-Control-Allow-Origin"))
			} else {
				assert.Equal(t, []string{tc.wantOrigin}, res.header.Values("Access-Control-Allow-Origin"))
			}
			assert.Equal(t, tc.wantVary, assertContains(headerValues(res.header, "Vary"), "Origin"), "Vary: Origin")
			if tc.wantCreds {
				assert.Equal(t, "true", res.header.Get("Access-Control-Allow-Credentials"))
			}
			if tc.wantOrigin == "" {
				assert.Empty(t, res.header.Values("Access-Control-Allow-Credentials"))
			}
			// Preflight-only headers never appear on actual requests
			// (engine.io test "should allow CORS from the current origin
			// (actual request)").
			assert.Empty(t, res.header.Values("Access-Control-Allow-Methods"))
			assert.Empty(t, res.header.Values("Access-Control-Allow-Headers"))
			assert.Empty(t, res.header.Values("Access-Control-Max-Age"))
		})
	}
	r := funcSaw.Load()
	require.NotNil(t, r, "AllowOriginFunc was called with the request")
	assert.Equal(t, "polling", r.URL.Query().Get("transport"))
}

func assertContains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// Every response of an allowed origin carries the CORS headers: polls,
// POSTs, and the error answers too, so that the browser lets the client
// read the error (engine.io test "should disallow non-existent
// transports", run with cors).
func TestCORS_HeadersOnEveryResponse(t *testing.T) {
	errs := newConnErrors()
	ts := newTestServer(t, &Options{
		CORS: &CORS{
			AllowOrigins:     []string{corsGoodOrigin},
			AllowCredentials: true,
			ExposeHeaders:    []string{"X-Trace", "X-Other"},
		},
		AllowRequest: func(r *http.Request) error {
			if r.URL.Query().Get("deny") != "" {
				return errors.New("denied by test")
			}
			return nil
		},
		OnConnectionError: errs.hook,
	}, nil)
	c := ts.client(t)
	origin := map[string]string{"Origin": corsGoodOrigin, "Content-Type": "text/plain;charset=UTF-8"}
	check := func(t *testing.T, res response) {
		t.Helper()
		assert.Equal(t, corsGoodOrigin, res.header.Get("Access-Control-Allow-Origin"))
		assert.Equal(t, "true", res.header.Get("Access-Control-Allow-Credentials"))
		assert.Contains(t, headerValues(res.header, "Vary"), "Origin")
		assert.Equal(t, "X-Trace,X-Other", res.header.Get("Access-Control-Expose-Headers"))
	}

	t.Run("unknown transport", func(t *testing.T) {
		res := c.do("GET", "EIO=4&transport=tobi", "", origin)
		assert.Equal(t, http.StatusBadRequest, res.status)
		assert.Equal(t, `{"code":0,"message":"Transport unknown"}`, res.body)
		assert.Equal(t, "application/json", res.header.Get("Content-Type"))
		check(t, res)
		e := errs.next(t)
		assert.Equal(t, CodeUnknownTransport, e.Code)
	})
	t.Run("unknown sid", func(t *testing.T) {
		res := c.do("GET", "EIO=4&transport=polling&sid=nope", "", origin)
		assert.Equal(t, http.StatusBadRequest, res.status)
		assert.Equal(t, `{"code":1,"message":"Session ID unknown"}`, res.body)
		check(t, res)
		assert.Equal(t, CodeUnknownSID, errs.next(t).Code)
	})
	t.Run("AllowRequest refusal", func(t *testing.T) {
		res := c.do("GET", "EIO=4&transport=polling&deny=1", "", origin)
		assert.Equal(t, http.StatusForbidden, res.status)
		assert.Equal(t, `{"code":4,"message":"denied by test"}`, res.body)
		check(t, res)
		assert.Equal(t, CodeForbidden, errs.next(t).Code)
	})
	t.Run("session traffic", func(t *testing.T) {
		res := c.do("GET", "EIO=4&transport=polling", "", origin)
		require.Equal(t, http.StatusOK, res.status)
		check(t, res)
		sid := sidOf(t, res.body)
		s := ts.rec.session(t)
		post := c.do("POST", pollQuery(sid), "4hello", origin)
		assert.Equal(t, "ok", post.body)
		check(t, post)
		assert.Equal(t, message{"hello", false}, ts.rec.message(t))
		require.NoError(t, s.Send([]byte("world")))
		get := c.do("GET", pollQuery(sid), "", origin)
		assert.Equal(t, "4world", get.body)
		check(t, get)
	})
}

// Without the CORS option a cross-origin polling request is served but
// gets no CORS header at all (RELIABILITY row 16), and OPTIONS is not
// special: it is a handshake with a bad method, as in Node without cors.
func TestCORS_OffByDefault(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	c := ts.client(t)
	res := c.do("GET", "EIO=4&transport=polling", "", map[string]string{"Origin": corsEvilOrigin})
	require.Equal(t, http.StatusOK, res.status)
	for k := range res.header {
		assert.False(t, strings.HasPrefix(k, "Access-Control-"), "unexpected %s", k)
	}
	assert.NotContains(t, headerValues(res.header, "Vary"), "Origin")

	res = c.do("OPTIONS", "EIO=4&transport=polling", "", map[string]string{
		"Origin":                        corsEvilOrigin,
		"Access-Control-Request-Method": "POST",
	})
	assert.Equal(t, http.StatusBadRequest, res.status)
	assert.Equal(t, `{"code":2,"message":"Bad handshake method"}`, res.body)
	assert.Empty(t, res.header.Values("Access-Control-Allow-Origin"))
}

// A wildcard is never combined with credentials (RELIABILITY row 16).
func TestCORS_AnyOriginWithCredentialsRejected(t *testing.T) {
	srv, err := New(&Options{CORS: &CORS{AllowAnyOrigin: true, AllowCredentials: true}})
	require.Error(t, err)
	assert.Nil(t, srv)
	assert.True(t, strings.HasPrefix(err.Error(), "engineio: invalid options: "), err.Error())
	assert.ErrorContains(t, err, "AllowAnyOrigin cannot be combined with AllowCredentials")
}

// Cross-site WebSocket hijacking (CVE-2020-28481, RELIABILITY row 16):
// browsers do not apply CORS to WebSocket, so the server refuses a
// cross-origin handshake unless CORS allows the origin.
func TestCORS_WebSocketOrigin(t *testing.T) {
	const sameOrigin = "<same>" // replaced by the server's own origin
	for _, tc := range []struct {
		name   string
		cors   *CORS
		origin string // "" sends no Origin
		allow  bool
	}{
		{"no CORS, cross origin", nil, corsEvilOrigin, false},
		{"no CORS, null origin", nil, "null", false},
		{"no CORS, other port", nil, "http://127.0.0.1:1", false},
		{"no CORS, host suffix", nil, sameOrigin + ".evil.example", false},
		{"no CORS, same origin", nil, sameOrigin, true},
		{"no CORS, no origin", nil, "", true},
		{"CORS lists the origin", &CORS{AllowOrigins: []string{corsEvilOrigin}}, corsEvilOrigin, true},
		{"CORS origin func", &CORS{AllowOriginFunc: func(o string, _ *http.Request) bool { return o == corsEvilOrigin }}, corsEvilOrigin, true},
		{"CORS any origin", &CORS{AllowAnyOrigin: true}, corsEvilOrigin, true},
		{"CORS lists another origin", &CORS{AllowOrigins: []string{corsGoodOrigin}}, corsEvilOrigin, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := newConnErrors()
			ts := newTestServer(t, &Options{CORS: tc.cors, OnConnectionError: errs.hook}, nil)
			origin := strings.ReplaceAll(tc.origin, sameOrigin, ts.ts.URL)
			hdr := http.Header{}
			if origin != "" {
				hdr.Set("Origin", origin)
			}
			ws, res, err := ts.dialWS(t, "EIO=4&transport=websocket", hdr)
			if tc.allow {
				require.NoError(t, err)
				hs := parseOpen(t, ws.mustRead())
				assert.Equal(t, ts.rec.session(t).ID(), hs.SID)
				assert.Equal(t, 1, ts.ClientsCount())
				errs.none(t)
				return
			}
			require.Error(t, err)
			require.NotNil(t, res, "an HTTP answer, not a dropped connection")
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			assert.Equal(t, http.StatusForbidden, res.StatusCode)
			assert.Equal(t, "Forbidden", string(body))
			assert.Equal(t, 0, ts.ClientsCount(), "no session for a refused handshake")
			assert.Empty(t, ts.rec.sessions, "OnConnection not called")
			e := errs.next(t)
			assert.Equal(t, CodeForbidden, e.Code)
			assert.Equal(t, "CROSS_ORIGIN_WEBSOCKET", e.Context)
			assert.Equal(t, origin, e.Request.Header.Get("Origin"))
		})
	}
}

// The same check guards the upgrade of an existing polling session: a
// page on another origin that learnt a sid cannot take the session over.
func TestCORS_WebSocketUpgradeCrossOrigin(t *testing.T) {
	errs := newConnErrors()
	ts := newTestServer(t, &Options{OnConnectionError: errs.hook}, nil)
	c := ts.client(t)
	sid := c.handshake()
	s := ts.rec.session(t)

	hdr := http.Header{"Origin": {corsEvilOrigin}}
	_, res, err := ts.dialWS(t, "EIO=4&transport=websocket&sid="+sid, hdr)
	require.Error(t, err)
	require.NotNil(t, res)
	res.Body.Close()
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	e := errs.next(t)
	assert.Equal(t, CodeForbidden, e.Code)
	assert.Equal(t, "CROSS_ORIGIN_WEBSOCKET", e.Context)

	// The polling session is untouched.
	assert.Equal(t, TransportPolling, s.Transport())
	assert.Equal(t, "ok", c.post(pollQuery(sid), "4still polling").body)
	assert.Equal(t, message{"still polling", false}, ts.rec.message(t))

	// Its own origin may upgrade.
	ws, _, err := ts.dialWS(t, "EIO=4&transport=websocket&sid="+sid, http.Header{"Origin": {ts.ts.URL}})
	require.NoError(t, err)
	ws.send("2probe")
	assert.Equal(t, "3probe", ws.mustRead())
}
