package engineio

import (
	"testing"

	"github.com/gosio/gosio/internal/leakcheck"
)

// TestMain fails the package if any test leaves a goroutine behind.
func TestMain(m *testing.M) { leakcheck.Main(m) }
