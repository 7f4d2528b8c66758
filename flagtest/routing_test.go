package flagtest_test

import (
	"testing"

	"github.com/flagmigrate/flagmigrate/flagtest"
	"github.com/flagmigrate/flagmigrate/internal/routetest"
)

// fakeSource serves a routing table's setup through the fake client.
func fakeSource(_ *testing.T, s routetest.Setup) routetest.Flags {
	c := flagtest.New()
	for key, v := range s.Bools {
		c.Set(key, v)
		for acct, av := range s.BoolsFor[key] {
			c.SetFor(key, acct, av)
		}
	}
	if s.StageKey != "" {
		c.SetStage(s.StageKey, s.Stage)
		for acct, st := range s.StageFor {
			c.SetStageFor(s.StageKey, acct, st)
		}
		for acct, v := range s.StageValueFor {
			c.SetValueFor(s.StageKey, acct, v)
		}
	}
	return c
}

// TestRouting runs the routing tables that the real adapters run (package
// ldflags on LaunchDarkly's ldtestdata, package openfeatureflags on
// OpenFeature's in-memory provider) on the fake: a test written against
// the fake routes as the service will in production.
func TestRouting(t *testing.T) {
	t.Run("four flags", func(t *testing.T) { routetest.FourFlags(t, fakeSource) })
	t.Run("stage flag", func(t *testing.T) { routetest.Stages(t, fakeSource) })
}
