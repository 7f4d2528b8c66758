package flagmigrate

// ClassifyWork is Classify with the default options, also returning how
// many value nodes the comparison visited: the work counter of
// TestCompareWorkIsLinear.
func ClassifyWork[T any](old, new T) (Verdict, []string, int) {
	w, ok := walkResults(old, new, false)
	if !ok {
		panic("ClassifyWork: not a type the walk knows")
	}
	if len(w.paths) == 0 {
		return VerdictMatch, nil, w.visits
	}
	return VerdictDifferent, w.result(), w.visits
}
