package migration

import "fmt"

// PanicError is a panic that the engine recovered: in a store call that
// runs after the caller's answer is settled (a secondary write, a
// candidate read, a probe), where it becomes that call's failure, reported
// and, for a write, recorded for repair. errors.As finds it in a report's
// error (StoreCall.Err, Comparison.OldErr and NewErr).
type PanicError struct {
	// Value is what was passed to panic.
	Value any
	// Stack is the panicking goroutine's stack, as runtime/debug.Stack
	// gives it.
	Stack []byte
}

// Error returns the panic's value; the stack stays in Stack.
func (e *PanicError) Error() string { return fmt.Sprintf("flagmigrate: recovered panic: %v", e.Value) }

// Unwrap returns the panic's value when it is an error (as a runtime error
// is), so that errors.Is and errors.As see it.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// SecondaryError is the failure of the store written second, inside an
// error about the call as a whole (flagmigrate.ErrUnrepaired): errors.As
// finds it, with the store's own error in Err. It does not unwrap, on
// purpose: the caller's write landed in the authoritative store, so the
// other store's ErrConflict, say, must not read as the caller's.
type SecondaryError struct {
	Side Side  // the store whose write failed
	Err  error // its error
}

// Error names the store and its error.
func (e *SecondaryError) Error() string {
	return fmt.Sprintf("the %s store's write failed: %v", e.Side, e.Err)
}
