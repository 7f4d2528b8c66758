package memlog

import (
	"context"
	"slices"
	"testing"
)

func TestLog(t *testing.T) {
	for _, tc := range []struct {
		reason      string
		log         *Log[int]
		add         []int
		wantKept    []int
		wantAdded   []bool
		wantDropped []int
	}{
		{"no limit keeps everything", &Log[int]{}, []int{1, 2, 3}, []int{1, 2, 3}, []bool{true, true, true}, nil},
		{"a list at its limit refuses the newest", &Log[int]{Limit: 2}, []int{1, 2, 3}, []int{1, 2}, []bool{true, true, false}, nil},
		{"a ring at its limit drops the oldest", &Log[int]{Limit: 2, Ring: true}, []int{1, 2, 3, 4}, []int{3, 4}, []bool{true, true, true, true}, []int{1, 2}},
	} {
		var dropped []int
		tc.log.OnDrop = func(e int) { dropped = append(dropped, e) }
		var added []bool
		for _, e := range tc.add {
			added = append(added, tc.log.Add(e))
		}
		var yielded []int
		for e, err := range tc.log.All(context.Background()) {
			if err != nil {
				t.Fatalf("%s: %v", tc.reason, err)
			}
			yielded = append(yielded, e)
		}
		if !slices.Equal(tc.log.Entries(), tc.wantKept) || !slices.Equal(yielded, tc.wantKept) || tc.log.Len() != len(tc.wantKept) ||
			!slices.Equal(added, tc.wantAdded) || !slices.Equal(dropped, tc.wantDropped) || tc.log.Dropped() != int64(len(tc.wantDropped)) {
			t.Errorf("%s: kept %v (yielded %v, Len %d), added %v, dropped %v (count %d)", tc.reason,
				tc.log.Entries(), yielded, tc.log.Len(), added, dropped, tc.log.Dropped())
		}
		tc.log.Reset()
		if tc.log.Len() != 0 || tc.log.Dropped() != 0 {
			t.Errorf("%s: Reset left %d entries, %d dropped", tc.reason, tc.log.Len(), tc.log.Dropped())
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	l := &Log[int]{}
	l.Add(1)
	for _, err := range l.All(ctx) {
		if err == nil {
			t.Error("All on a done context yielded an entry")
		}
	}
}
