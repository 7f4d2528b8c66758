package openfeatureflags_test

import (
	"testing"

	"github.com/flagmigrate/flagmigrate/internal/routetest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestRouting runs the routing tables every flag adapter runs (package
// ldflags runs them on LaunchDarkly's ldtestdata) on an OpenFeature client
// over the in-memory provider, accounts targeted by targeting key.
func TestRouting(t *testing.T) {
	t.Run("four flags", func(t *testing.T) { routetest.FourFlags(t, ofSource) })
	t.Run("stage flag", func(t *testing.T) { routetest.Stages(t, ofSource) })
}

const (
	oldW = "old.StoreEvent"
	newW = "new.StoreEvent"
)

var (
	newFixture = routetest.NewFixture
	event      = routetest.Event
)
