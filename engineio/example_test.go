package engineio_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/gosio/gosio/engineio"
)

// An echo server, driven by hand with the long-polling transport.
func Example() {
	srv, err := engineio.New(nil)
	if err != nil {
		panic(err)
	}
	srv.OnConnection(func(s *engineio.Session) {
		s.OnMessage(func(data []byte, binary bool) {
			_ = s.Send(append([]byte("echo: "), data...))
		})
	})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer srv.Close()

	base := ts.URL + "/engine.io/?EIO=4&transport=polling"
	open := get(base)
	sid := open[strings.Index(open, `"sid":"`)+7:][:20]
	fmt.Println("handshake:", open[:1], "(open)")

	res, _ := http.Post(base+"&sid="+sid, "text/plain", strings.NewReader("4hello"))
	res.Body.Close()
	fmt.Println("poll:", get(base+"&sid="+sid))
	// Output:
	// handshake: 0 (open)
	// poll: 4echo: hello
}

func get(url string) string {
	res, err := http.Get(url)
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

// Shutdown closes every session with "server shutting down" and waits for
// the server's goroutines. A polling client must come back for its close
// packet; one that does not (like this one) is cut when ctx expires.
func ExampleServer_Shutdown() {
	srv, _ := engineio.New(nil)
	srv.OnConnection(func(s *engineio.Session) {
		s.OnClose(func(reason engineio.Reason, _ error) { fmt.Println("closed:", reason) })
	})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	get(ts.URL + "/engine.io/?EIO=4&transport=polling")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_ = srv.Shutdown(ctx)
	// Output:
	// closed: server shutting down
}
