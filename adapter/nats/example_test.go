package natsadapter_test

import (
	"context"
	"fmt"
	"time"

	natsadapter "github.com/gosio/gosio/adapter/nats"
	"github.com/gosio/gosio/adapter/nats/natsembed"
	"github.com/gosio/gosio/socketio"
)

// Two Socket.IO servers (two processes, in real life) form one cluster
// over NATS: here an embedded NATS server, and one connection each.
func Example() {
	bus, err := natsembed.Start(nil)
	if err != nil {
		panic(err)
	}
	defer bus.Shutdown()

	var servers []*socketio.Server
	for _, name := range []string{"a", "b"} {
		nc, err := bus.Connect()
		if err != nil {
			panic(err)
		}
		defer nc.Close() // after the Socket.IO server: deferred first
		srv, err := socketio.New(&socketio.Options{Adapter: natsadapter.New(nc)})
		if err != nil {
			panic(err)
		}
		defer srv.Close() // says goodbye to the cluster
		srv.OnServerEvent("whoami", func(ctx context.Context, ev *socketio.Event) error {
			return ev.Ack("server " + name)
		})
		servers = append(servers, srv)
	}

	// The servers find each other through their heartbeats.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for n := 0; n != 2 && ctx.Err() == nil; n, _ = servers[0].ServerCount(ctx) {
		time.Sleep(10 * time.Millisecond)
	}

	answers, err := servers[0].ServerSideEmitWithAck(ctx, "whoami")
	if err != nil {
		panic(err)
	}
	for _, ans := range answers {
		var name string
		_ = ans.Scan(&name)
		fmt.Println(name)
	}
	// Output:
	// server b
}
