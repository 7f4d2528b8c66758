package testutil

import (
	"context"

	"github.com/flagmigrate/flagmigrate/migration"
)

// ObserverOf returns the [migration.Observer] made of x's methods that
// have the names and signatures of the Observer's fields (StoreCalled,
// Compared, ...): a test's recorder keeps its methods and plugs in with
// flagmigrate.WithObserver(testutil.ObserverOf(rec)).
func ObserverOf(x any) migration.Observer {
	var o migration.Observer
	if v, ok := x.(interface {
		StoreCalled(context.Context, migration.StoreCall)
	}); ok {
		o.StoreCalled = v.StoreCalled
	}
	if v, ok := x.(interface {
		Compared(context.Context, migration.Comparison)
	}); ok {
		o.Compared = v.Compared
	}
	if v, ok := x.(interface {
		ShadowDropped(context.Context, string, migration.DropReason)
	}); ok {
		o.ShadowDropped = v.ShadowDropped
	}
	if v, ok := x.(interface {
		DangerousRouting(context.Context, string, migration.FlagState)
	}); ok {
		o.DangerousRouting = v.DangerousRouting
	}
	if v, ok := x.(interface {
		RepairRecorded(context.Context, migration.RepairEntry, error)
	}); ok {
		o.RepairRecorded = v.RepairRecorded
	}
	if v, ok := x.(interface {
		RepairDropped(context.Context, migration.RepairEntry)
	}); ok {
		o.RepairDropped = v.RepairDropped
	}
	if v, ok := x.(interface {
		FlagFailed(context.Context, string, string, error)
	}); ok {
		o.FlagFailed = v.FlagFailed
	}
	if v, ok := x.(interface {
		StoreStateChanged(context.Context, migration.StoreState)
	}); ok {
		o.StoreStateChanged = v.StoreStateChanged
	}
	if v, ok := x.(interface {
		BrakeChanged(context.Context, migration.BrakeState)
	}); ok {
		o.BrakeChanged = v.BrakeChanged
	}
	return o
}
