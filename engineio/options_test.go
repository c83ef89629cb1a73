package engineio

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOptions_Validation(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts *Options
		want []string // fragments of the error
	}{
		{"negative PingInterval", &Options{PingInterval: -time.Second}, []string{"PingInterval is negative (-1s)"}},
		{"negative PingTimeout", &Options{PingTimeout: -time.Millisecond}, []string{"PingTimeout is negative (-1ms)"}},
		{"negative UpgradeTimeout", &Options{UpgradeTimeout: -1}, []string{"UpgradeTimeout is negative (-1ns)"}},
		{"negative MaxHTTPBufferSize", &Options{MaxHTTPBufferSize: -1}, []string{"MaxHTTPBufferSize is negative (-1)"}},
		{"negative MaxBufferedBytes", &Options{MaxBufferedBytes: -5}, []string{"MaxBufferedBytes is negative (-5)"}},
		{"negative compression threshold", &Options{HTTPCompression: HTTPCompression{Threshold: -1}}, []string{"HTTPCompression.Threshold is negative (-1)"}},
		{"unknown transport", &Options{Transports: []string{TransportPolling, "tcp"}}, []string{`unknown transport "tcp" in Transports`}},
		{"webtransport", &Options{Transports: []string{"webtransport"}}, []string{`unknown transport "webtransport" in Transports`}},
		{"transport name case", &Options{Transports: []string{"WebSocket"}}, []string{`unknown transport "WebSocket" in Transports`}},
		{"path without leading slash", &Options{Path: "engine.io"}, []string{`Path "engine.io" does not start with /`}},
		{"path without leading slash, no trailing slash", &Options{Path: "socket", AddTrailingSlash: new(false)}, []string{`Path "socket" does not start with /`}},
		{"any origin with credentials", &Options{CORS: &CORS{AllowAnyOrigin: true, AllowCredentials: true}}, []string{"CORS: AllowAnyOrigin cannot be combined with AllowCredentials"}},
		{"every problem reported", &Options{PingInterval: -1, MaxHTTPBufferSize: -2, Path: "x"}, []string{
			"PingInterval is negative", "MaxHTTPBufferSize is negative (-2)", `Path "x" does not start with /`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := New(tc.opts)
			require.Error(t, err)
			assert.Nil(t, srv)
			assert.True(t, strings.HasPrefix(err.Error(), "engineio: invalid options: "), err.Error())
			for _, w := range tc.want {
				assert.ErrorContains(t, err, w)
			}
		})
	}
}

func TestOptions_ValidAccepted(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts *Options
	}{
		{"nil", nil},
		{"zero", &Options{}},
		{"websocket only", &Options{Transports: []string{TransportWebSocket}}},
		{"polling only", &Options{Transports: []string{TransportPolling}}},
		{"custom path", &Options{Path: "/custom/", AddTrailingSlash: new(false)}},
		{"root path", &Options{Path: "/"}},
		{"ping timeout above interval", &Options{PingInterval: time.Second, PingTimeout: 2 * time.Second}},
		{"everything", &Options{
			PingInterval: time.Second, PingTimeout: time.Second, UpgradeTimeout: time.Second,
			MaxHTTPBufferSize: 1, MaxBufferedBytes: 1, AllowUpgrades: new(false),
			Cookie: &Cookie{}, CORS: &CORS{AllowAnyOrigin: true}, PerMessageDeflate: &PerMessageDeflate{},
			HTTPCompression: HTTPCompression{Disabled: true},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := New(tc.opts)
			require.NoError(t, err)
			require.NotNil(t, srv)
			require.NoError(t, srv.Close())
		})
	}
}

// The zero Options are Node's defaults, as the client sees them.
func TestOptions_DefaultsInHandshake(t *testing.T) {
	ts := newTestServer(t, &Options{}, nil)
	assert.Equal(t, "/engine.io/", ts.Path())
	res := ts.client(t).get("EIO=4&transport=polling")
	require.Equal(t, http.StatusOK, res.status)
	sid := sidOf(t, res.body)
	assert.Equal(t, `0{"sid":"`+sid+`","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`, res.body)

	ts = newTestServer(t, &Options{PingInterval: 1500 * time.Millisecond, PingTimeout: 700 * time.Millisecond, MaxHTTPBufferSize: 4096}, nil)
	hs := parseOpen(t, ts.client(t).get("EIO=4&transport=polling").body)
	assert.Equal(t, int64(1500), hs.PingInterval)
	assert.Equal(t, int64(700), hs.PingTimeout)
	assert.Equal(t, int64(4096), hs.MaxPayload)
}

// Node matches the path as a prefix of the URL: "/engine.io/" by default,
// "/engine.io" with addTrailingSlash false. Other paths are not ours.
func TestOptions_Path(t *testing.T) {
	const q = "?EIO=4&transport=polling"
	for _, tc := range []struct {
		name     string
		opts     *Options
		wantPath string
		ok       []string
		notFound []string
	}{
		{"default", nil, "/engine.io/",
			[]string{"/engine.io/" + q},
			[]string{"/engine.io" + q, "/" + q, "/other/" + q, "/socket.io/" + q, "/ENGINE.IO/" + q}},
		{"no trailing slash", &Options{AddTrailingSlash: new(false)}, "/engine.io",
			[]string{"/engine.io" + q, "/engine.io/" + q},
			[]string{"/engine" + q, "/other" + q}},
		{"custom path", &Options{Path: "/custom/"}, "/custom/",
			[]string{"/custom/" + q},
			[]string{"/custom" + q, "/engine.io/" + q}},
		{"custom path without slash", &Options{Path: "/rt"}, "/rt/",
			[]string{"/rt/" + q},
			[]string{"/rt" + q}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := newConnErrors()
			opts := &Options{}
			if tc.opts != nil {
				opts = tc.opts
			}
			opts.OnConnectionError = errs.hook
			ts := newTestServer(t, opts, nil)
			assert.Equal(t, tc.wantPath, ts.Path())
			c := ts.client(t)
			for _, p := range tc.ok {
				res := c.fetch("GET", ts.ts.URL+p, nil)
				assert.Equal(t, http.StatusOK, res.status, p)
				assert.True(t, strings.HasPrefix(res.body, "0{"), "%s: %s", p, res.body)
				ts.rec.session(t)
			}
			for _, p := range tc.notFound {
				res := c.fetch("GET", ts.ts.URL+p, nil)
				assert.Equal(t, http.StatusNotFound, res.status, p)
			}
			assert.Equal(t, len(tc.ok), ts.ClientsCount())
			errs.none(t) // a request for another path is not an Engine.IO error
		})
	}
	t.Run("websocket without trailing slash", func(t *testing.T) {
		ts := newTestServer(t, &Options{AddTrailingSlash: new(false)}, nil)
		ts.url = ts.ts.URL + "/engine.io" // dialWS appends "?query"
		ws := ts.mustDialWS(t, "EIO=4&transport=websocket")
		parseOpen(t, ws.mustRead())
	})
}

func TestOptions_Transports(t *testing.T) {
	t.Run("websocket only", func(t *testing.T) {
		errs := newConnErrors()
		ts := newTestServer(t, &Options{Transports: []string{TransportWebSocket}, OnConnectionError: errs.hook}, nil)
		res := ts.client(t).get("EIO=4&transport=polling")
		assert.Equal(t, http.StatusBadRequest, res.status)
		assert.Equal(t, `{"code":0,"message":"Transport unknown"}`, res.body)
		assert.Equal(t, CodeUnknownTransport, errs.next(t).Code)
		assert.Zero(t, ts.ClientsCount())

		ws := ts.mustDialWS(t, "EIO=4&transport=websocket")
		assert.Equal(t, []string{}, parseOpen(t, ws.mustRead()).Upgrades)
	})
	t.Run("polling only", func(t *testing.T) {
		errs := newConnErrors()
		ts := newTestServer(t, &Options{Transports: []string{TransportPolling}, OnConnectionError: errs.hook}, nil)
		c := ts.client(t)
		res := c.get("EIO=4&transport=polling")
		require.Equal(t, http.StatusOK, res.status)
		hs := parseOpen(t, res.body)
		assert.Equal(t, []string{}, hs.Upgrades)
		assert.Contains(t, res.body, `"upgrades":[]`, "an empty array, not null")

		// A WebSocket handshake is refused like Node's abortUpgrade.
		_, wres, err := ts.dialWS(t, "EIO=4&transport=websocket", nil)
		require.Error(t, err)
		require.NotNil(t, wres)
		wres.Body.Close()
		assert.Equal(t, http.StatusBadRequest, wres.StatusCode)
		assert.Equal(t, "text/html", wres.Header.Get("Content-Type"))
		assert.Equal(t, CodeUnknownTransport, errs.next(t).Code)

		// So is an upgrade of the polling session.
		_, wres, err = ts.dialWS(t, "EIO=4&transport=websocket&sid="+hs.SID, nil)
		require.Error(t, err)
		require.NotNil(t, wres)
		wres.Body.Close()
		assert.Equal(t, http.StatusBadRequest, wres.StatusCode)
		assert.Equal(t, TransportPolling, ts.Session(hs.SID).Transport())
	})
	t.Run("upgrades not allowed", func(t *testing.T) {
		ts := newTestServer(t, &Options{AllowUpgrades: new(false)}, nil)
		res := ts.client(t).get("EIO=4&transport=polling")
		assert.Equal(t, []string{}, parseOpen(t, res.body).Upgrades)
		assert.Contains(t, res.body, `"upgrades":[]`)
	})
}

func TestOptions_GenerateID(t *testing.T) {
	t.Run("custom id", func(t *testing.T) {
		var n atomic.Int32
		var sawEIO atomic.Value
		ts := newTestServer(t, &Options{GenerateID: func(r *http.Request) (string, error) {
			sawEIO.Store(r.URL.Query().Get("EIO"))
			return fmt.Sprintf("custom-%d", n.Add(1)), nil
		}}, nil)
		c := ts.client(t)
		res := c.get("EIO=4&transport=polling")
		assert.Equal(t, "custom-1", parseOpen(t, res.body).SID)
		assert.Equal(t, "4", sawEIO.Load())
		s := ts.rec.session(t)
		assert.Equal(t, "custom-1", s.ID())
		assert.Same(t, s, ts.Session("custom-1"))
		assert.Equal(t, "ok", c.post(pollQuery("custom-1"), "4hi").body)
		assert.Equal(t, message{"hi", false}, ts.rec.message(t))

		ws := ts.mustDialWS(t, "EIO=4&transport=websocket")
		assert.Equal(t, "custom-2", parseOpen(t, ws.mustRead()).SID)
		assert.Equal(t, "custom-2", ts.rec.session(t).ID())
	})

	// engine.io test "should disallow connection that are rejected by
	// `generateId`".
	errNoIDs := errors.New("no ids left")
	for _, tc := range []struct {
		name    string
		gen     func(*http.Request) (string, error)
		wantErr string
	}{
		{"error", func(*http.Request) (string, error) { return "", errNoIDs }, "no ids left"},
		{"empty id", func(*http.Request) (string, error) { return "", nil }, "empty id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := newConnErrors()
			ts := newTestServer(t, &Options{GenerateID: tc.gen, OnConnectionError: errs.hook}, nil)
			res := ts.client(t).get("EIO=4&transport=polling")
			assert.Equal(t, http.StatusBadRequest, res.status)
			assert.Equal(t, `{"code":3,"message":"Bad request"}`, res.body)
			e := errs.next(t)
			assert.Equal(t, CodeBadRequest, e.Code)
			assert.Equal(t, "Bad request", e.Message)
			assert.Equal(t, "ID_GENERATION_ERROR", e.Context)
			require.Error(t, e.Err)
			assert.ErrorContains(t, e.Err, tc.wantErr)
			if tc.name == "error" {
				assert.ErrorIs(t, e, errNoIDs)
			}

			_, wres, err := ts.dialWS(t, "EIO=4&transport=websocket", nil)
			require.Error(t, err)
			require.NotNil(t, wres)
			wres.Body.Close()
			assert.Equal(t, http.StatusBadRequest, wres.StatusCode)
			assert.Equal(t, "ID_GENERATION_ERROR", errs.next(t).Context)

			assert.Zero(t, ts.ClientsCount())
			assert.Empty(t, ts.rec.sessions, "OnConnection not called")
		})
	}
}

// engine.io test "should disallow requests that are rejected by
// `allowRequest`": 403 with the hook's message.
func TestOptions_AllowRequest(t *testing.T) {
	t.Run("refused", func(t *testing.T) {
		errNope := errors.New("nope")
		errs := newConnErrors()
		ts := newTestServer(t, &Options{
			AllowRequest:      func(*http.Request) error { return errNope },
			OnConnectionError: errs.hook,
		}, nil)
		res := ts.client(t).get("EIO=4&transport=polling")
		assert.Equal(t, http.StatusForbidden, res.status)
		assert.Equal(t, `{"code":4,"message":"nope"}`, res.body)
		assert.Equal(t, "application/json", res.header.Get("Content-Type"))
		e := errs.next(t)
		assert.Equal(t, CodeForbidden, e.Code)
		assert.Equal(t, "nope", e.Message)
		assert.ErrorIs(t, e, errNope)
		assert.Zero(t, ts.ClientsCount())
		assert.Empty(t, ts.rec.sessions)
	})
	t.Run("handshakes only", func(t *testing.T) {
		// Node calls allowRequest in verify() only when there is no sid.
		var calls atomic.Int32
		ts := newTestServer(t, &Options{AllowRequest: func(r *http.Request) error {
			calls.Add(1)
			if r.URL.Query().Get("sid") != "" {
				return errors.New("called for a session request")
			}
			return nil
		}}, nil)
		c := ts.client(t)
		sid := c.handshake()
		s := ts.rec.session(t)
		assert.Equal(t, "ok", c.post(pollQuery(sid), "4x").body)
		require.NoError(t, s.Send([]byte("y")))
		assert.Equal(t, "4y", c.get(pollQuery(sid)).body)
		ws := ts.mustDialWS(t, "EIO=4&transport=websocket&sid="+sid)
		ws.send("2probe")
		assert.Equal(t, "3probe", ws.mustRead())
		assert.Equal(t, int32(1), calls.Load())
	})
}

// The cookie option: engine.io tests "should send the io cookie", "...
// custom name", "... custom path", "... httpOnly=false", "... sameSite=
// strict", "should not send the io cookie".
func TestOptions_Cookie(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cookie *Cookie
		want   string // with %s for the sid; "" for no cookie
	}{
		{"default", &Cookie{}, "io=%s; Path=/; HttpOnly; SameSite=Lax"},
		{"custom name", &Cookie{Name: "woot"}, "woot=%s; Path=/; HttpOnly; SameSite=Lax"},
		{"custom path", &Cookie{Path: "/custom"}, "io=%s; Path=/custom; HttpOnly; SameSite=Lax"},
		{"custom name and path", &Cookie{Name: "sid", Path: "/rt"}, "sid=%s; Path=/rt; HttpOnly; SameSite=Lax"},
		{"httpOnly false", &Cookie{HTTPOnly: new(false)}, "io=%s; Path=/; SameSite=Lax"},
		{"sameSite strict", &Cookie{SameSite: http.SameSiteStrictMode}, "io=%s; Path=/; HttpOnly; SameSite=Strict"},
		{"off", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var initial sync.Map
			ts := newTestServer(t, &Options{
				Cookie: tc.cookie,
				OnInitialHeaders: func(h http.Header, _ *http.Request) {
					initial.Store("cookie", h.Get("Set-Cookie"))
				},
			}, nil)
			c := ts.client(t)
			res := c.get("EIO=4&transport=polling")
			require.Equal(t, http.StatusOK, res.status)
			sid := sidOf(t, res.body)
			s := ts.rec.session(t)
			if tc.want == "" {
				assert.Empty(t, res.header.Values("Set-Cookie"))
				return
			}
			want := fmt.Sprintf(tc.want, sid)
			assert.Equal(t, []string{want}, res.header.Values("Set-Cookie"))
			got, _ := initial.Load("cookie")
			assert.Equal(t, want, got, "OnInitialHeaders sees the cookie, as Node's initial_headers does")

			// Only the handshake sets it.
			post := c.post(pollQuery(sid), "4x")
			assert.Equal(t, "ok", post.body)
			assert.Empty(t, post.header.Values("Set-Cookie"))
			require.NoError(t, s.Send([]byte("y")))
			get := c.get(pollQuery(sid))
			assert.Equal(t, "4y", get.body)
			assert.Empty(t, get.header.Values("Set-Cookie"))
		})
	}
}

// Node's "initial_headers" fires on handshakes only, "headers" on every
// polling response (GET and POST) and on WebSocket handshake responses.
func TestOptions_HeaderHooks(t *testing.T) {
	var mu sync.Mutex
	var calls []string
	var n atomic.Int32
	ts := newTestServer(t, &Options{
		OnInitialHeaders: func(h http.Header, r *http.Request) {
			mu.Lock()
			calls = append(calls, "initial "+r.Method+" "+r.URL.Query().Get("transport"))
			mu.Unlock()
			h.Set("X-Initial", "yes")
		},
		OnHeaders: func(h http.Header, r *http.Request) {
			mu.Lock()
			calls = append(calls, "headers "+r.Method+" "+r.URL.Query().Get("transport"))
			mu.Unlock()
			h.Set("X-Headers", fmt.Sprint(n.Add(1)))
		},
	}, nil)
	takeCalls := func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := calls
		calls = nil
		return out
	}
	c := ts.client(t)

	res := c.get("EIO=4&transport=polling")
	require.Equal(t, http.StatusOK, res.status)
	sid := sidOf(t, res.body)
	s := ts.rec.session(t)
	assert.Equal(t, "yes", res.header.Get("X-Initial"))
	assert.Equal(t, "1", res.header.Get("X-Headers"))
	assert.Equal(t, []string{"initial GET polling", "headers GET polling"}, takeCalls(), "initial headers first")

	require.NoError(t, s.Send([]byte("a")))
	get := c.get(pollQuery(sid))
	assert.Equal(t, "4a", get.body)
	assert.Empty(t, get.header.Values("X-Initial"))
	assert.Equal(t, "2", get.header.Get("X-Headers"))

	post := c.post(pollQuery(sid), "4b")
	assert.Equal(t, "ok", post.body)
	assert.Empty(t, post.header.Values("X-Initial"))
	assert.Equal(t, "3", post.header.Get("X-Headers"))
	assert.Equal(t, []string{"headers GET polling", "headers POST polling"}, takeCalls())

	// Refused requests get neither (Node's abortRequest writes its own
	// headers).
	bad := c.get(pollQuery("nope"))
	assert.Equal(t, http.StatusBadRequest, bad.status)
	assert.Empty(t, bad.header.Values("X-Headers"))
	assert.Empty(t, takeCalls())

	// WebSocket handshake: both, in the 101 response.
	ws, wres, err := ts.dialWS(t, "EIO=4&transport=websocket", nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusSwitchingProtocols, wres.StatusCode)
	assert.Equal(t, "yes", wres.Header.Get("X-Initial"))
	assert.Equal(t, "4", wres.Header.Get("X-Headers"))
	parseOpen(t, ws.mustRead())
	assert.Equal(t, []string{"initial GET websocket", "headers GET websocket"}, takeCalls())

	// Upgrade of the polling session: "headers" only.
	up, ures, err := ts.dialWS(t, "EIO=4&transport=websocket&sid="+sid, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusSwitchingProtocols, ures.StatusCode)
	assert.Empty(t, ures.Header.Values("X-Initial"))
	assert.Equal(t, "5", ures.Header.Get("X-Headers"))
	assert.Equal(t, []string{"headers GET websocket"}, takeCalls())
	up.send("2probe")
	assert.Equal(t, "3probe", up.mustRead())
}

// New copies the options: the caller's struct is never written, and
// changing it afterwards, slices and pointers included, has no effect
// (Options doc; STYLE.md §4).
func TestOptions_CopiedByNew(t *testing.T) {
	opts := &Options{
		Transports: []string{TransportPolling, TransportWebSocket},
		Cookie:     &Cookie{HTTPOnly: new(true)},
		CORS: &CORS{
			AllowOrigins:  []string{corsGoodOrigin},
			AllowMethods:  []string{"GET", "POST"},
			AllowHeaders:  []string{"x-a"},
			ExposeHeaders: []string{"x-b"},
		},
		PerMessageDeflate: &PerMessageDeflate{},
	}
	ts := newTestServer(t, opts, nil)

	// Nothing was filled in.
	assert.Empty(t, opts.Path)
	assert.Nil(t, opts.AddTrailingSlash)
	assert.Zero(t, opts.PingInterval)
	assert.Empty(t, opts.Cookie.Name)
	assert.Empty(t, opts.Cookie.Path)
	assert.Zero(t, opts.Cookie.SameSite)
	assert.Zero(t, opts.PerMessageDeflate.Threshold)
	assert.Zero(t, opts.HTTPCompression.Threshold)

	// Changes after New are not seen.
	opts.PingInterval = time.Hour
	opts.Transports[1] = TransportPolling
	opts.Cookie.Name = "changed"
	*opts.Cookie.HTTPOnly = false
	opts.CORS.AllowOrigins[0] = "https://changed.example"
	opts.CORS.AllowMethods[0] = "PUT"
	opts.CORS.AllowHeaders[0] = "x-changed"
	opts.CORS.ExposeHeaders[0] = "x-changed"

	c := ts.client(t)
	res := c.do("GET", "EIO=4&transport=polling", "", map[string]string{"Origin": corsGoodOrigin})
	require.Equal(t, http.StatusOK, res.status)
	hs := parseOpen(t, res.body)
	assert.Equal(t, int64(25000), hs.PingInterval)
	assert.Equal(t, []string{TransportWebSocket}, hs.Upgrades)
	assert.Equal(t, fmt.Sprintf("io=%s; Path=/; HttpOnly; SameSite=Lax", hs.SID), res.header.Get("Set-Cookie"))
	assert.Equal(t, corsGoodOrigin, res.header.Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "x-b", res.header.Get("Access-Control-Expose-Headers"))

	pre := c.do("OPTIONS", "EIO=4&transport=polling", "", map[string]string{
		"Origin":                        corsGoodOrigin,
		"Access-Control-Request-Method": "POST",
	})
	assert.Equal(t, "GET,POST", pre.header.Get("Access-Control-Allow-Methods"))
	assert.Equal(t, "x-a", pre.header.Get("Access-Control-Allow-Headers"))
}
