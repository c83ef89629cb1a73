package adaptertest_test

import (
	"testing"

	"github.com/gosio/gosio/adapter"
	"github.com/gosio/gosio/adapter/adaptertest"
	"github.com/gosio/gosio/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// TestRun_Example runs the suite with the harness of the package example,
// so that what the documentation shows passes.
func TestRun_Example(t *testing.T) { adaptertest.Run(t, harness) }

// TestRun_Cluster runs the suite's multi-server cases against a toy
// cluster of memory adapters linked in process (loopback_test.go), so
// that the cases a cluster adapter will meet are themselves tested.
func TestRun_Cluster(t *testing.T) {
	adaptertest.Run(t, adaptertest.Harness{
		MaxServers: 3,
		NewCluster: func(t *testing.T, n int) []adapter.Factory {
			return new(loopback).factories(n)
		},
	})
}
