package eventstore

// CanonicalValue canonicalises one JSON-like value as Data's values are,
// for the tests of the canonical form.
func CanonicalValue(v any) (any, error) { return canonicalValue(v, "Data", 1) }
