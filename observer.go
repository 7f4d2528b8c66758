package flagmigrate

import (
	"context"
	"errors"

	"github.com/flagmigrate/flagmigrate/eventstore"
)

// WithObserver sets the observer, in place of the default: [SlogObserver]
// over [log/slog.Default], without values. The zero Observer makes the migration
// silent. Combine several with [MultiObserver] (with SlogObserver among
// them to keep the logs).
func WithObserver(o Observer) Option {
	return func(c *config) { c.observer, c.observerSet = o, true }
}

func outcomeOf(err error, notFound func(error) bool) Outcome {
	switch {
	case err == nil:
		return OutcomeOK
	case notFound(err):
		return OutcomeNotFound
	case errors.Is(err, ErrConflict):
		return OutcomeConflict
	case errors.Is(err, ErrInvalidEvent), errors.Is(err, ErrInvalidArgument), errors.Is(err, eventstore.ErrInvalidCursor):
		return OutcomeInvalid
	case errors.Is(err, context.Canceled):
		return OutcomeCanceled
	case errors.Is(err, context.DeadlineExceeded):
		return OutcomeTimeout
	}
	return OutcomeError
}
