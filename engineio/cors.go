package engineio

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// applyCORS sets the CORS headers of every response, as Node's cors
// middleware does, and answers preflight (OPTIONS) requests itself; it
// reports whether it answered.
func (srv *Server) applyCORS(w http.ResponseWriter, r *http.Request) bool {
	c := srv.cfg.cors
	h := w.Header()
	origin := r.Header.Get("Origin")
	allowed := c.AllowAnyOrigin
	switch {
	case c.AllowAnyOrigin:
		h.Set("Access-Control-Allow-Origin", "*")
	default:
		h.Add("Vary", "Origin")
		if origin != "" && srv.corsAllows(origin, r) {
			h.Set("Access-Control-Allow-Origin", origin)
			allowed = true
		}
	}
	if allowed && c.AllowCredentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if r.Method != http.MethodOptions {
		if allowed && len(c.ExposeHeaders) > 0 {
			h.Set("Access-Control-Expose-Headers", strings.Join(c.ExposeHeaders, ","))
		}
		return false
	}
	h.Set("Access-Control-Allow-Methods", strings.Join(c.AllowMethods, ","))
	if len(c.AllowHeaders) > 0 {
		h.Set("Access-Control-Allow-Headers", strings.Join(c.AllowHeaders, ","))
	} else if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		h.Set("Access-Control-Allow-Headers", req)
		h.Add("Vary", "Access-Control-Request-Headers")
	}
	if c.MaxAge > 0 {
		h.Set("Access-Control-Max-Age", strconv.Itoa(int(c.MaxAge.Seconds())))
	}
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusNoContent)
	return true
}

func (srv *Server) corsAllows(origin string, r *http.Request) bool {
	c := srv.cfg.cors
	if c == nil {
		return false
	}
	if c.AllowAnyOrigin {
		return true
	}
	for _, o := range c.AllowOrigins {
		if o == origin {
			return true
		}
	}
	return c.AllowOriginFunc != nil && c.AllowOriginFunc(origin, r)
}

// originAllowed decides whether a WebSocket handshake may proceed: no
// Origin (not a browser), the same origin, or an origin CORS allows. This
// closes cross-site WebSocket hijacking (CVE-2020-28481), which browsers'
// same-origin policy does not cover. Node leaves it to allowRequest.
func (srv *Server) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if u, err := url.Parse(origin); err == nil && strings.EqualFold(u.Host, r.Host) {
		return true
	}
	return srv.corsAllows(origin, r)
}

// isWebSocketUpgrade reports whether r asks to switch to WebSocket (what
// Node routes to its "upgrade" event).
func isWebSocketUpgrade(r *http.Request) bool {
	return headerHasToken(r.Header, "Connection", "upgrade") && headerHasToken(r.Header, "Upgrade", "websocket")
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h[http.CanonicalHeaderKey(name)] {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// validHeaderValue mirrors Node's checkInvalidHeaderChar: tab, printable
// ASCII and bytes 0x80-0xff only.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c != '\t' && (c < 0x20 || c == 0x7f) {
			return false
		}
	}
	return true
}
