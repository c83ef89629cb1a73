package engineio

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gosio/gosio/engineio/parser"
)

// servePolling answers a long-polling request of an existing session.
func (s *Session) servePolling(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		s.servePollGET(w, r)
	case http.MethodPost:
		s.servePollPOST(w, r)
	default:
		w.WriteHeader(http.StatusInternalServerError) // as Node
	}
}

// servePollGET holds the request until there is something to send, then
// answers with everything queued in one payload. A second GET while one is
// pending closes the session ("overlap from client"), as does a GET the
// client abandons.
func (s *Session) servePollGET(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.state == stateClosed {
		s.mu.Unlock()
		s.srv.reject(w, &ConnectionError{Request: r, Code: CodeUnknownSID}, false)
		return
	}
	if s.pollActive {
		s.mu.Unlock()
		s.terminate(ReasonTransportError, errOverlapGET, false)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	s.pollActive = true
	// A wake-up left over from before this GET would only cost a loop.
	for {
		batch, closing := s.takeForPollLocked()
		if batch != nil {
			// Encode, then free the GET slot before writing: once the
			// client has the answer it may poll again at once, and that
			// GET must not be taken for an overlap (Node clears its
			// pending request at res.end()).
			s.mu.Unlock()
			body, compress := s.encodePoll(batch)
			s.mu.Lock()
			s.pollActive = false
			if !closing {
				s.recycleLocked(batch)
			}
			s.mu.Unlock()
			err := s.writePollResponse(w, r, body, compress)
			putBuffer(body)
			switch {
			case closing:
				s.terminate(s.closeReasonValue(), nil, true)
			case err != nil:
				s.terminate(ReasonTransportError, err, false)
			default:
				s.emitDrain()
			}
			return
		}
		s.mu.Unlock()
		select {
		case <-s.pollWake:
		case <-r.Context().Done():
			s.mu.Lock()
			s.pollActive = false
			s.mu.Unlock()
			s.terminate(ReasonTransportError, errPollClosed, false)
			return
		}
		s.mu.Lock()
	}
}

func (s *Session) closeReasonValue() Reason {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closeReason
}

// takeForPollLocked decides what a GET answers now: nil to keep waiting.
// closing reports that the batch ends with the close packet of a graceful
// close.
func (s *Session) takeForPollLocked() (batch []*Message, closing bool) {
	switch {
	case s.state == stateClosed:
		return []*Message{s.pollFinal}, false
	case s.transport != TransportPolling:
		return []*Message{msgNoop}, false // upgraded while this GET waited
	case s.state == stateClosing && len(s.queue) > 0:
		// What is queued goes first; the close packet follows in the next
		// answer, as in Node (clients act on a close packet at once but on
		// messages a tick later, so bundling reorders them).
		return s.takeQueueLocked(), false
	case s.state == stateClosing:
		return []*Message{msgClose}, true
	case len(s.queue) > 0:
		return s.takeQueueLocked(), false
	case s.upgrading:
		return []*Message{msgNoop}, false // release the GET: the client is moving to WebSocket
	}
	return nil, false
}

// servePollPOST reads one payload from the client and handles its
// packets in order.
func (s *Session) servePollPOST(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Content-Type") == "application/octet-stream" {
		// Protocol v4 payloads are text; Node (6.6.7+) ends the request.
		w.WriteHeader(http.StatusBadRequest)
		s.terminate(ReasonTransportError, errInvalidContent, false)
		return
	}
	s.mu.Lock()
	if s.postActive {
		s.mu.Unlock()
		s.terminate(ReasonTransportError, errOverlapPOST, false)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	s.postActive = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.postActive = false
		s.mu.Unlock()
	}()

	limit := s.srv.cfg.maxHTTPBufferSize
	body, err := readBody(http.MaxBytesReader(w, r.Body, limit), r.ContentLength, limit)
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			w.Header().Set("Connection", "close")
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			s.terminate(ReasonTransportError, ErrPayloadTooLarge, false)
			return
		}
		s.terminate(ReasonTransportError, errors.Join(errPostClosed, err), false)
		return
	}

	var derr error
	s.dispatch.Lock()
	for p, err := range parser.Packets(body) {
		if err != nil {
			derr = err
			break
		}
		s.handlePacket(p)
	}
	s.releaseDispatch()
	if derr != nil {
		s.log().Debug("engineio: invalid payload", "err", derr)
		s.terminate(ReasonParseError, derr, false)
		// Node destroys the request; a 400 tells the client as clearly.
		s.srv.reject(w, &ConnectionError{Request: r, Code: CodeBadRequest, Context: "PARSE_ERROR", Err: derr}, false)
		return
	}
	h := w.Header()
	// text/html, not text/plain, avoids a download dialog in old browsers (Node GH-43).
	h.Set("Content-Type", "text/html")
	h.Set("Content-Length", "2")
	s.srv.pollingHeaders(h, r)
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "ok")
}

// readBody reads a request body of at most limit bytes, sized up front
// from Content-Length when the client sent one.
func readBody(r io.Reader, contentLength, limit int64) ([]byte, error) {
	size := int64(512)
	if contentLength > 0 {
		size = min(contentLength, limit) + 1 // +1 lets ReadFrom see EOF without growing
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	_, err := buf.ReadFrom(r)
	return buf.Bytes(), err
}

// pollingHeaders adds the headers of every polling response and runs the
// headers hook.
func (srv *Server) pollingHeaders(h http.Header, r *http.Request) {
	h.Set("Cache-Control", "no-store")
	if ua := r.Header.Get("User-Agent"); strings.Contains(ua, ";MSIE") || strings.Contains(ua, "Trident/") {
		h.Set("X-XSS-Protection", "0")
	}
	if fn := srv.cfg.onHeaders; fn != nil {
		fn(h, r)
	}
}

// encodePoll encodes batch as one payload into a pooled buffer (release
// it with putBuffer) and tells whether it may be compressed.
func (s *Session) encodePoll(batch []*Message) (buf *[]byte, compress bool) {
	n := 0
	for i, m := range batch {
		if i > 0 {
			n++
		}
		n += m.pollingLen()
		compress = compress || !m.noDeflat
	}
	buf = getBuffer(n)
	body := *buf
	for i, m := range batch {
		if i > 0 {
			body = append(body, parser.RecordSeparator)
		}
		body = m.appendPolling(body)
	}
	*buf = body
	return buf, compress
}

// writePollResponse writes one encoded payload, compressed when the
// options and the client allow it.
func (s *Session) writePollResponse(w http.ResponseWriter, r *http.Request, buf *[]byte, compress bool) error {
	body := *buf
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	hc := s.srv.cfg.httpCompression
	encoding := ""
	if compress && !hc.Disabled && len(body) >= hc.Threshold {
		encoding = negotiateEncoding(r.Header.Get("Accept-Encoding"))
	}
	if encoding != "" {
		zbuf := getBuffer(len(body) / 2)
		defer putBuffer(zbuf)
		z, err := compressBody(*zbuf, body, encoding)
		if err == nil {
			*zbuf = z
			body = z
			h.Set("Content-Encoding", encoding)
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	s.srv.pollingHeaders(h, r)

	// A long poll outlives any http.Server WriteTimeout shorter than the
	// ping interval: give the write its own deadline.
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Now().Add(s.srv.writeTimeout()))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(body)
	return err
}

func (srv *Server) writeTimeout() time.Duration {
	return srv.cfg.pingInterval + srv.cfg.pingTimeout
}

// negotiateEncoding picks gzip or deflate from an Accept-Encoding header,
// preferring the higher q-value and gzip on a tie; "" when neither is
// acceptable.
func negotiateEncoding(accept string) string {
	best, bestQ := "", 0.0
	star := -1.0
	qGzip, qDeflate := -1.0, -1.0
	for part := range strings.SplitSeq(accept, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = f
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "gzip":
			qGzip = q
		case "deflate":
			qDeflate = q
		case "*":
			star = q
		}
	}
	if qGzip < 0 {
		qGzip = star
	}
	if qDeflate < 0 {
		qDeflate = star
	}
	if qGzip > bestQ {
		best, bestQ = "gzip", qGzip
	}
	if qDeflate > bestQ {
		best = "deflate"
	}
	return best
}

var (
	gzipWriters = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression); return w }}
	// "deflate" in HTTP is zlib-wrapped (RFC 9110 §8.4.1.2), as Node's
	// zlib.createDeflate writes it.
	zlibWriters = sync.Pool{New: func() any { w, _ := zlib.NewWriterLevel(nil, zlib.DefaultCompression); return w }}
)

func compressBody(dst, src []byte, encoding string) ([]byte, error) {
	out := bytes.NewBuffer(dst[:0])
	var zw interface {
		io.WriteCloser
		Reset(io.Writer)
	}
	var pool *sync.Pool
	if encoding == "gzip" {
		pool = &gzipWriters
	} else {
		pool = &zlibWriters
	}
	zw = pool.Get().(interface {
		io.WriteCloser
		Reset(io.Writer)
	})
	defer pool.Put(zw)
	zw.Reset(out)
	if _, err := zw.Write(src); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// Write buffers, pooled. Buffers that grew past maxPooledBuffer are
// dropped so that one burst does not pin memory.
const maxPooledBuffer = 256 << 10

var buffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

func getBuffer(n int) *[]byte {
	b := buffers.Get().(*[]byte)
	if cap(*b) < n {
		*b = make([]byte, 0, n)
	}
	*b = (*b)[:0]
	return b
}

func putBuffer(b *[]byte) {
	if cap(*b) > maxPooledBuffer {
		return
	}
	*b = (*b)[:0]
	buffers.Put(b)
}
