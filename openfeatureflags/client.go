package openfeatureflags

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"github.com/flagmigrate/flagmigrate"
	"github.com/launchdarkly/go-sdk-common/v3/ldcontext"
	"github.com/open-feature/go-sdk/openfeature"
)

// Evaluator is the part of an OpenFeature client a [Client] uses.
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

// Client evaluates the migration's flags through OpenFeature. It is safe
// for concurrent use.
type Client struct {
	of      Evaluator
	pending pendingOps
}

var (
	_ flagmigrate.FlagClient      = (*Client)(nil)
	_ flagmigrate.StageFlagClient = (*Client)(nil)
)

// ErrNoEvaluator is returned by [New] for a nil OpenFeature client.
var ErrNoEvaluator = errors.New("openfeatureflags: nil OpenFeature client")

// New returns a Client that evaluates flags with of, typically an
// [*openfeature.Client] bound to a ready provider, or [ErrNoEvaluator] when
// of is nil.
func New(of Evaluator) (*Client, error) {
	if of == nil {
		return nil, ErrNoEvaluator
	}
	if v := reflect.ValueOf(of); v.Kind() == reflect.Pointer && v.IsNil() {
		return nil, ErrNoEvaluator
	}
	return &Client{of: of}, nil
}

// BoolVariationCtx implements [flagmigrate.FlagClient]: it evaluates the
// boolean flag key for the account of evalContext, returning defaultVal and
// an [*EvalError] when OpenFeature cannot evaluate the flag.
func (c *Client) BoolVariationCtx(ctx context.Context, key string, evalContext ldcontext.Context, defaultVal bool) (bool, error) {
	d, err := c.of.BooleanValueDetails(ctx, key, defaultVal, EvaluationContext(evalContext))
	if err != nil {
		return defaultVal, newEvalError(key, d.ErrorCode, err)
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

// Attribute names a Client adds to an evaluation context.
const (
	// AttrKind holds the LaunchDarkly context kind ("account" by default).
	AttrKind = "kind"
)

// EvaluationContext returns the OpenFeature evaluation context a Client
// evaluates flags for when the MigratingStore passes lc: the targeting key
// is the account (lc's key, or for a multi-context the key of its
// [flagmigrate.AccountContextKind] context), [AttrKind] holds the kind, and
// every attribute of that context (its name and custom attributes, as set
// by a [flagmigrate.WithLDContext] function) is an attribute of the same
// name, as a Go value (bool, float64, string, []any or map[string]any). The
// other contexts of a multi-context become attributes named by their kind,
// each a map[string]any holding their key and attributes; a multi-context
// without an account has no targeting key and the kind "multi".
func EvaluationContext(lc ldcontext.Context) openfeature.EvaluationContext {
	if !lc.Multiple() {
		attrs := attributes(lc)
		attrs[AttrKind] = string(lc.Kind())
		return openfeature.NewEvaluationContext(lc.Key(), attrs)
	}
	account := lc.IndividualContextByKind(flagmigrate.AccountContextKind)
	attrs := attributes(account)
	attrs[AttrKind] = string(flagmigrate.AccountContextKind)
	if !account.IsDefined() {
		attrs[AttrKind] = string(lc.Kind()) // "multi"
	}
	for _, other := range lc.GetAllIndividualContexts(nil) {
		if other.Kind() == flagmigrate.AccountContextKind {
			continue
		}
		m := attributes(other)
		m["key"] = other.Key()
		attrs[string(other.Kind())] = m
	}
	return openfeature.NewEvaluationContext(account.Key(), attrs)
}

// attributes returns the optional attributes of a single context.
func attributes(lc ldcontext.Context) map[string]any {
	names := lc.GetOptionalAttributeNames(nil)
	attrs := make(map[string]any, len(names)+1)
	for _, name := range names {
		attrs[name] = lc.GetValue(name).AsArbitraryValue()
	}
	return attrs
}
