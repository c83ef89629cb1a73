package syncbuf_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/gosio/gosio/internal/leakcheck"
	"github.com/gosio/gosio/internal/syncbuf"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

func TestConcurrentWrites(t *testing.T) {
	var b syncbuf.Buffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 100 {
				fmt.Fprintf(&b, "%d\n", i)
			}
		})
	}
	wg.Wait()
	if n := strings.Count(b.String(), "\n"); n != 800 {
		t.Fatalf("%d lines, want 800", n)
	}
}

func ExampleBuffer() {
	var b syncbuf.Buffer
	fmt.Fprint(&b, "hello")
	fmt.Println(b.String())
	// Output: hello
}
