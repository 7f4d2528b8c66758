package testutil

import (
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	ldevents "github.com/launchdarkly/go-sdk-events/v3"
	ldclient "github.com/launchdarkly/go-server-sdk/v7"
	"github.com/launchdarkly/go-server-sdk/v7/ldcomponents"
	"github.com/launchdarkly/go-server-sdk/v7/subsystems"
)

// MakeLDClient returns a LaunchDarkly client that evaluates td's flags and
// never touches the network: its data comes from td (an ldtestdata or
// ldfiledata data source), events go to events
// (nil means ldcomponents.NoEvents()), diagnostics are opted out and
// logging is off. The caller closes it.
func MakeLDClient(td subsystems.ComponentConfigurer[subsystems.DataSource], events subsystems.ComponentConfigurer[ldevents.EventProcessor]) (*ldclient.LDClient, error) {
	if events == nil {
		events = ldcomponents.NoEvents()
	}
	return ldclient.MakeCustomClient("test-sdk-key", ldclient.Config{
		DataSource:       td,
		Events:           events,
		DiagnosticOptOut: true,
		Logging:          ldcomponents.NoLogging(),
	}, 5*time.Second)
}

// NewLDClient returns MakeLDClient(td, nil), closed when the test ends.
func NewLDClient(t testing.TB, td subsystems.ComponentConfigurer[subsystems.DataSource]) *ldclient.LDClient {
	t.Helper()
	c, err := MakeLDClient(td, nil)
	if err != nil {
		t.Fatalf("LaunchDarkly test client: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// NewRecordingLDClient returns a client like NewLDClient's whose analytics
// events go to the returned recorder instead of LaunchDarkly.
func NewRecordingLDClient(t testing.TB, td subsystems.ComponentConfigurer[subsystems.DataSource]) (*ldclient.LDClient, *EventRecorder) {
	t.Helper()
	rec := &EventRecorder{}
	c, err := MakeLDClient(td, rec)
	if err != nil {
		t.Fatalf("LaunchDarkly test client: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c, rec
}

// EventRecorder is an in-process LaunchDarkly event processor (and its
// configurer) that keeps the events a client records.
type EventRecorder struct {
	mu          sync.Mutex
	evaluations []ldevents.EvaluationData
	migrations  []ldevents.MigrationOpEventData
	custom      int
}

var (
	_ ldevents.EventProcessor                                 = (*EventRecorder)(nil)
	_ subsystems.ComponentConfigurer[ldevents.EventProcessor] = (*EventRecorder)(nil)
)

// Build implements subsystems.ComponentConfigurer.
func (r *EventRecorder) Build(subsystems.ClientContext) (ldevents.EventProcessor, error) {
	return r, nil
}

// Evaluations returns the flag evaluations recorded.
func (r *EventRecorder) Evaluations() []ldevents.EvaluationData {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.evaluations)
}

// MigrationOps returns the migration operation events recorded.
func (r *EventRecorder) MigrationOps() []ldevents.MigrationOpEventData {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.migrations)
}

// Reset forgets the events.
func (r *EventRecorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evaluations, r.migrations, r.custom = nil, nil, 0
}

// RecordEvaluation implements ldevents.EventProcessor.
func (r *EventRecorder) RecordEvaluation(e ldevents.EvaluationData) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evaluations = append(r.evaluations, e)
}

// RecordMigrationOpEvent implements ldevents.EventProcessor.
func (r *EventRecorder) RecordMigrationOpEvent(e ldevents.MigrationOpEventData) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.migrations = append(r.migrations, e)
}

// RecordIdentifyEvent implements ldevents.EventProcessor.
func (r *EventRecorder) RecordIdentifyEvent(ldevents.IdentifyEventData) {}

// RecordCustomEvent implements ldevents.EventProcessor.
func (r *EventRecorder) RecordCustomEvent(ldevents.CustomEventData) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.custom++
}

// RecordRawEvent implements ldevents.EventProcessor.
func (r *EventRecorder) RecordRawEvent(json.RawMessage) {}

// Flush implements ldevents.EventProcessor.
func (r *EventRecorder) Flush() {}

// FlushBlocking implements ldevents.EventProcessor.
func (r *EventRecorder) FlushBlocking(time.Duration) bool { return true }

// Close implements ldevents.EventProcessor.
func (r *EventRecorder) Close() error { return nil }
