package socketio_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/gosio/gosio/socketio"
)

// A chat server: each message is broadcast to the sender's room, and the
// sender gets an acknowledgement. The client side is played by hand here
// with raw Socket.IO frames; real programs use an official client.
func Example() {
	srv, err := socketio.New(&socketio.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic(err)
	}
	srv.OnConnection(func(ctx context.Context, s *socketio.Socket) error {
		s.Join("lobby")
		return s.Emit("welcome") // sent after the CONNECT answer
	})
	srv.On("chat", func(ctx context.Context, ev *socketio.Event) error {
		var msg string
		if err := ev.Scan(&msg); err != nil {
			return err
		}
		if err := ev.Socket().To("lobby").Emit("chat", msg); err != nil {
			return err
		}
		return ev.Ack("delivered")
	})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer srv.Close()

	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	alice, bob := dialRaw(url), dialRaw(url)
	defer alice.Close()
	defer bob.Close()
	read(alice) // 42["welcome"]: the connection handlers have run,
	read(bob)   // so both are in "lobby"

	_ = alice.WriteMessage(websocket.TextMessage, []byte(`421["chat","hello"]`))
	fmt.Println("alice got:", read(alice))
	fmt.Println("bob got:", read(bob))
	// Output:
	// alice got: 431["delivered"]
	// bob got: 42["chat","hello"]
}

// dialRaw opens an Engine.IO WebSocket and joins the main namespace.
func dialRaw(url string) *websocket.Conn {
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		panic(err)
	}
	read(c) // Engine.IO open
	_ = c.WriteMessage(websocket.TextMessage, []byte("40"))
	read(c) // Socket.IO connect
	return c
}

func read(c *websocket.Conn) string {
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, b, err := c.ReadMessage()
	if err != nil {
		panic(err)
	}
	return string(b)
}

// HandleAck turns a typed function into an event handler that answers.
func ExampleHandleAck() {
	type joinReq struct {
		Room string `json:"room"`
	}
	type joinResp struct {
		Joined string `json:"joined"`
	}
	srv, _ := socketio.New(&socketio.Options{Logger: slog.New(slog.DiscardHandler)})
	defer srv.Close()
	srv.On("join", socketio.HandleAck(func(ctx context.Context, s *socketio.Socket, req joinReq) (joinResp, error) {
		s.Join(req.Room)
		return joinResp{Joined: req.Room}, nil
	}))
	ts := httptest.NewServer(srv)
	defer ts.Close()
	c := dialRaw("ws" + strings.TrimPrefix(ts.URL, "http") + "/socket.io/?EIO=4&transport=websocket")
	defer c.Close()
	_ = c.WriteMessage(websocket.TextMessage, []byte(`427["join",{"room":"go"}]`))
	fmt.Println(read(c))
	// Output:
	// 437[{"joined":"go"}]
}

// Handlers registered on a namespace serve every socket of it.
func ExampleNamespace_On() {
	srv, _ := socketio.New(&socketio.Options{Logger: slog.New(slog.DiscardHandler)})
	defer srv.Close()
	admin := srv.Of("/admin")
	admin.On("stats", func(ctx context.Context, ev *socketio.Event) error {
		return ev.Ack(map[string]int{"sockets": len(admin.Sockets())})
	})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	c := dialRaw("ws" + strings.TrimPrefix(ts.URL, "http") + "/socket.io/?EIO=4&transport=websocket")
	defer c.Close()
	_ = c.WriteMessage(websocket.TextMessage, []byte("40/admin,"))
	read(c) // CONNECT answer
	_ = c.WriteMessage(websocket.TextMessage, []byte(`42/admin,1["stats"]`))
	fmt.Println(read(c))
	// Output:
	// 43/admin,1[{"sockets":1}]
}

// EmitWithAck waits for the client's answer, bounded by the context.
func ExampleSocket_EmitWithAck() {
	srv, _ := socketio.New(&socketio.Options{Logger: slog.New(slog.DiscardHandler)})
	defer srv.Close()
	answers := make(chan string, 1)
	srv.OnConnection(func(ctx context.Context, s *socketio.Socket) error {
		go func() {
			ctx, cancel := context.WithTimeout(s.Context(), 5*time.Second)
			defer cancel()
			ack, err := s.EmitWithAck(ctx, "question", "ready?")
			if err != nil {
				answers <- err.Error()
				return
			}
			var answer string
			_ = ack.Scan(&answer)
			answers <- answer
		}()
		return nil
	})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	c := dialRaw("ws" + strings.TrimPrefix(ts.URL, "http") + "/socket.io/?EIO=4&transport=websocket")
	defer c.Close()
	fmt.Println("client got:", read(c))
	_ = c.WriteMessage(websocket.TextMessage, []byte(`430["yes"]`))
	fmt.Println("server got:", <-answers)
	// Output:
	// client got: 420["question","ready?"]
	// server got: yes
}

// Shutdown disconnects every socket with "server shutting down".
func ExampleServer_Shutdown() {
	srv, _ := socketio.New(&socketio.Options{Logger: slog.New(slog.DiscardHandler)})
	srv.OnDisconnect(func(s *socketio.Socket, reason socketio.Reason) { fmt.Println("disconnected:", reason) })
	ts := httptest.NewServer(srv)
	defer ts.Close()
	c := dialRaw("ws" + strings.TrimPrefix(ts.URL, "http") + "/socket.io/?EIO=4&transport=websocket")
	defer c.Close()
	go func() { // a client reads until the end, answering the close frame
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fmt.Println("shutdown error:", srv.Shutdown(ctx))
	// Output:
	// disconnected: server shutting down
	// shutdown error: <nil>
}
