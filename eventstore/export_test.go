package eventstore

// CanonicalValue canonicalises one JSON-like value as Data's values are,
// for the tests of the canonical form.
func CanonicalValue(v any) (any, error) { return canonicalValue(v, "Data", 1) }

// DiffWork is Event.Diff, also returning how many nodes the walk visited:
// the work counter of TestDiffWorkIsLinear.
func DiffWork(a, b Event) ([]Difference, int) {
	var w walker
	w.event(&a, &b, false)
	return w.result(), w.visits
}
