package openfeatureflags

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/flagmigrate/flagmigrate"
	"github.com/open-feature/go-sdk/openfeature"
)

// Evaluator is the part of an OpenFeature client a [Flags] uses.
// [*openfeature.Client] satisfies it.
type Evaluator interface {
	// BooleanValueDetails evaluates a boolean flag, with the resolution's
	// details.
	BooleanValueDetails(ctx context.Context, flag string, defaultValue bool, evalCtx openfeature.EvaluationContext, options ...openfeature.Option) (openfeature.BooleanEvaluationDetails, error)
	// StringValueDetails evaluates a string flag, with the resolution's
	// details.
	StringValueDetails(ctx context.Context, flag string, defaultValue string, evalCtx openfeature.EvaluationContext, options ...openfeature.Option) (openfeature.StringEvaluationDetails, error)
	// Track sends a tracking event.
	Track(ctx context.Context, trackingEventName string, evalCtx openfeature.EvaluationContext, details openfeature.TrackingEventDetails)
}

var _ Evaluator = (*openfeature.Client)(nil)

// Flags evaluates the migration's flags through OpenFeature. It is safe
// for concurrent use.
type Flags struct {
	of      Evaluator
	context func(ctx context.Context, accountID string) openfeature.EvaluationContext
	timeout time.Duration // each evaluation's bound; negative: none
}

var (
	_ flagmigrate.FlagClient      = (*Flags)(nil)
	_ flagmigrate.StageFlagClient = (*Flags)(nil)
)

// ErrNoEvaluator is returned by [New] for a nil OpenFeature client.
var ErrNoEvaluator = errors.New("openfeatureflags: nil OpenFeature client")

// Option configures [New].
type Option func(*Flags)

// WithContext sets how an account's evaluation context is built, for
// example to add attributes that targeting rules match (default
// [AccountContext]). ctx is the call's context. A nil build keeps the
// default.
func WithContext(build func(ctx context.Context, accountID string) openfeature.EvaluationContext) Option {
	return func(c *Flags) {
		if build != nil {
			c.context = build
		}
	}
}

// New returns Flags that evaluate with of, typically an
// [*openfeature.Client] bound to a ready provider, or [ErrNoEvaluator] when
// of is nil.
func New(of Evaluator, opts ...Option) (*Flags, error) {
	if of == nil {
		return nil, ErrNoEvaluator
	}
	if v := reflect.ValueOf(of); v.Kind() == reflect.Pointer && v.IsNil() {
		return nil, ErrNoEvaluator
	}
	c := &Flags{of: of, timeout: DefaultEvaluationTimeout}
	for _, o := range opts {
		if o != nil {
			o(c)
		}
	}
	return c, nil
}

// Attribute names and values of the default evaluation context.
const (
	// AttrKind holds the kind of entity the targeting key names.
	AttrKind = "kind"
	// AccountKind is [AttrKind]'s value: the targeting key is an account.
	AccountKind = "account"
)

// EvaluationContext returns the default evaluation context of an account:
// the account ID as targeting key and the attribute [AttrKind] set to
// [AccountKind].
func AccountContext(accountID string) openfeature.EvaluationContext {
	return openfeature.NewEvaluationContext(accountID, map[string]any{AttrKind: AccountKind})
}

func (c *Flags) evalContext(ctx context.Context, accountID string) openfeature.EvaluationContext {
	if c.context != nil {
		return c.context(ctx, accountID)
	}
	return AccountContext(accountID)
}

// BoolFlag implements [flagmigrate.FlagClient]: it evaluates the boolean
// flag key for the account, returning defaultValue and an [*EvalError]
// when OpenFeature cannot evaluate the flag.
func (c *Flags) BoolFlag(ctx context.Context, key, accountID string, defaultValue bool) (bool, error) {
	ec := c.evalContext(ctx, accountID)
	d, err := evaluate(ctx, c.timeout, key, func(ctx context.Context) (openfeature.BooleanEvaluationDetails, error) {
		return c.of.BooleanValueDetails(ctx, key, defaultValue, ec)
	})
	if err != nil {
		return defaultValue, newEvalError(key, d.ErrorCode, err)
	}
	return d.Value, nil
}

// EvalError is the error of a flag OpenFeature could not evaluate.
type EvalError struct {
	Key  string                // the flag
	Code openfeature.ErrorCode // OpenFeature's error code, GENERAL when it gave none
	Err  error                 // OpenFeature's error
}

func newEvalError(key string, code openfeature.ErrorCode, err error) *EvalError {
	if code == "" {
		code = openfeature.GeneralCode
	}
	return &EvalError{Key: key, Code: code, Err: err}
}

// Error implements error.
func (e *EvalError) Error() string {
	return fmt.Sprintf("openfeatureflags: flag %q: %v", e.Key, e.Err)
}

// Unwrap returns OpenFeature's error.
func (e *EvalError) Unwrap() error { return e.Err }
