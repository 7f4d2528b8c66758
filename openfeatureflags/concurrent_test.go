package openfeatureflags_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/flagmigrate/flagmigrate"
	"github.com/flagmigrate/flagmigrate/openfeatureflags"
	"github.com/open-feature/go-sdk/openfeature/memprovider"
)

// TestConcurrentTrackingKeepsAccounts: operations of many accounts at once
// each send their measurements for their own account.
func TestConcurrentTrackingKeepsAccounts(t *testing.T) {
	const accounts, writes = 16, 8
	client, p := newTrackingClient(t, map[string]memprovider.InMemoryFlag{
		stageKey: targetedFlag(stageKey, "dualwrite", nil, nil),
	})
	f := newFixture(t, client, flagmigrate.WithStageFlag(stageKey))
	var wg sync.WaitGroup
	for a := range accounts {
		wg.Go(func() {
			for w := range writes {
				if err := f.Store.StoreEvent(t.Context(), event(fmt.Sprint("acct-", a), fmt.Sprint("e", w))); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	got := map[string]int{}
	for _, e := range p.take() {
		if e.Name != openfeatureflags.EventLatency {
			t.Errorf("unexpected event %+v", e)
		}
		got[e.Key]++
	}
	for a := range accounts {
		// dualwrite: a latency from each store per write
		if n := got[fmt.Sprint("acct-", a)]; n != 2*writes {
			t.Errorf("acct-%d: %d latency events, want %d", a, n, 2*writes)
		}
	}
	if len(got) != accounts {
		t.Errorf("events for %d targeting keys, want %d: %v", len(got), accounts, got)
	}
}
