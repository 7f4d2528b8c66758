package testutil

import (
	"context"

	"github.com/flagmigrate/flagmigrate"
)

// ObserverOf returns the [flagmigrate.Observer] made of x's methods that
// have the names and signatures of the Observer's fields (StoreCalled,
// Compared, ...): a test's recorder keeps its methods and plugs in with
// flagmigrate.WithObserver(testutil.ObserverOf(rec)).
func ObserverOf(x any) flagmigrate.Observer {
	var o flagmigrate.Observer
	if v, ok := x.(interface {
		StoreCalled(context.Context, flagmigrate.StoreCall)
	}); ok {
		o.StoreCalled = v.StoreCalled
	}
	if v, ok := x.(interface {
		Compared(context.Context, flagmigrate.Comparison)
	}); ok {
		o.Compared = v.Compared
	}
	if v, ok := x.(interface {
		ShadowDropped(context.Context, string, flagmigrate.DropReason)
	}); ok {
		o.ShadowDropped = v.ShadowDropped
	}
	if v, ok := x.(interface {
		DangerousRouting(context.Context, string, flagmigrate.FlagState)
	}); ok {
		o.DangerousRouting = v.DangerousRouting
	}
	if v, ok := x.(interface {
		RepairRecorded(context.Context, flagmigrate.RepairEntry, error)
	}); ok {
		o.RepairRecorded = v.RepairRecorded
	}
	if v, ok := x.(interface {
		RepairDropped(context.Context, flagmigrate.RepairEntry)
	}); ok {
		o.RepairDropped = v.RepairDropped
	}
	if v, ok := x.(interface {
		FlagFailed(context.Context, string, string, error)
	}); ok {
		o.FlagFailed = v.FlagFailed
	}
	if v, ok := x.(interface {
		StoreStateChanged(context.Context, flagmigrate.StoreState)
	}); ok {
		o.StoreStateChanged = v.StoreStateChanged
	}
	if v, ok := x.(interface {
		BrakeChanged(context.Context, flagmigrate.BrakeState)
	}); ok {
		o.BrakeChanged = v.BrakeChanged
	}
	return o
}
