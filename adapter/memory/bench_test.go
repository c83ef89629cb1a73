package memory_test

import (
	"fmt"
	"testing"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/adapter/adaptertest"
	"github.com/gosio/gosio/adapter/memory"
)

// BenchmarkBroadcast measures the fan-out of one broadcast to n sockets
// whose Deliver only counts. allocs/op must not grow with n: the packet is
// encoded once and the target slices are pooled.
//
//   - all: every socket (no rooms);
//   - room: the room every socket is in;
//   - except: that room, except one socket's id room;
//   - rooms2: two rooms (every socket is in "room", half also in "half"),
//     so the recipients must be deduplicated.
func BenchmarkBroadcast(b *testing.B) {
	cases := []struct {
		name string
		opts adapter.BroadcastOptions
	}{
		{"all", adapter.BroadcastOptions{}},
		{"room", adapter.BroadcastOptions{Rooms: []string{"room"}}},
		{"except", adapter.BroadcastOptions{Rooms: []string{"room"}, Except: []string{"s0"}}},
		{"rooms2", adapter.BroadcastOptions{Rooms: []string{"room", "half"}}},
	}
	for _, tc := range cases {
		for _, n := range []int{10, 100, 1_000, 10_000} {
			b.Run(fmt.Sprintf("%s/sockets=%d", tc.name, n), func(b *testing.B) {
				a := memory.NewAdapter(adaptertest.NewNamespace("/", nil))
				sockets := append(populate(a, "s", n/2, "room", "half"), populate(a, "t", n-n/2, "room")...)
				p := eventPacket()
				b.ReportAllocs()
				for b.Loop() {
					_ = a.Broadcast(p, tc.opts)
				}
				want := int64(n)
				if tc.name == "except" {
					want--
				}
				if got := delivered(sockets); got%want != 0 || got == 0 {
					b.Fatalf("%d deliveries, not a multiple of %d", got, want)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/recipient")
			})
		}
	}
}
