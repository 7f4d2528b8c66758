package eventstore

// The rules of Event.Data, for other contracts that hold JSON-like data
// under the same canonical form (package recordstore's records): one set
// of rules, so that a value stores and compares alike in events and
// records.

// CanonicalData validates data as [Event.Canonical] validates Event.Data
// and returns its canonical form (see [Event]), deep-copied; an empty map
// becomes nil. An error is a [*ValidationError] whose Field is a path
// under "Data" (such as "Data.items[2].name"). It does not bound the size:
// see [DataSize].
func CanonicalData(data map[string]any) (map[string]any, error) {
	if len(data) == 0 {
		return nil, nil
	}
	return canonicalMap(data, "Data", 1)
}

// DataSize is the size of canonical data as [Event.Size] counts it.
func DataSize(data map[string]any) int {
	if data == nil {
		return 0
	}
	return valueSize(data)
}

// EqualData reports whether two canonical Data maps are identical, type
// for type, as [EqualEvents] compares them (the one comparison's probe).
func EqualData(a, b map[string]any) bool {
	if (a == nil) != (b == nil) {
		return false
	}
	var w walker
	return w.value(a, b, true, 1)
}

// DiffData returns where two Data maps differ, as [Event.Diff] names the
// differences under an event's Data (`Data["plan"]`); nil when they are
// equal.
func DiffData(a, b map[string]any) []Difference {
	var w walker
	w.push(pathStep{field: "Data"})
	w.value(a, b, false, 1)
	return w.result()
}

// CloneData returns a deep copy of data, sharing no map or slice with it.
func CloneData(data map[string]any) map[string]any {
	if data == nil {
		return nil
	}
	return cloneValue(data).(map[string]any)
}
