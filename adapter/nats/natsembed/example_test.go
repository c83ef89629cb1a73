package natsembed_test

import (
	"fmt"
	"time"

	"github.com/gosio/gosio/adapter/nats/natsembed"
)

// An embedded server with no network listener, and an in-process client.
func Example() {
	srv, err := natsembed.Start(nil)
	if err != nil {
		panic(err)
	}
	defer srv.Shutdown()
	nc, err := srv.Connect()
	if err != nil {
		panic(err)
	}
	defer nc.Close()
	sub, _ := nc.SubscribeSync("greetings")
	_ = nc.Publish("greetings", []byte("hello over NATS"))
	msg, _ := sub.NextMsg(5 * time.Second)
	fmt.Println(string(msg.Data), "| listening on the network:", srv.ClientURL() != "")
	// Output:
	// hello over NATS | listening on the network: false
}
