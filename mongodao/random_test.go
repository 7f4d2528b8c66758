package mongodao

import (
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/flagmigrate/flagmigrate/eventstore"
)

// RandomEvent returns a random event whose Data mixes every canonical kind,
// lists of lists and maps that look like the store's wrappers. It may not
// be canonical (a number may need canonicalising); it is valid but for
// rare size overflows, which callers skip.
func RandomEvent(r *rand.Rand, accountID, id string) eventstore.Event {
	ms := r.Int64N(eventstore.MaxTime().UnixMilli() + 1)
	e := eventstore.Event{
		AccountID: accountID,
		ID:        id,
		Type:      randomString(r),
		Time:      time.UnixMilli(ms).UTC(),
	}
	if e.Type == "" {
		e.Type = "t"
	}
	if r.IntN(5) > 0 {
		e.Data = randomMap(r, 1)
	}
	return e
}

var keyPool = []string{"k", "ünï", "flagmigrate:list", "flagmigrate:map", "0", "a b", "🚀", "_id", "x:y"}

func randomString(r *rand.Rand) string {
	switch r.IntN(4) {
	case 0:
		return ""
	case 1:
		return keyPool[r.IntN(len(keyPool))]
	case 2:
		return "s" + strconv.Itoa(r.IntN(1000))
	}
	b := make([]rune, r.IntN(8))
	for i := range b {
		b[i] = rune(1 + r.IntN(0x2FFFF))
		if b[i] >= 0xD800 && b[i] < 0xE000 { // surrogates are not valid UTF-8
			b[i] = 'x'
		}
	}
	return string(b)
}

func randomMap(r *rand.Rand, depth int) map[string]any {
	m := make(map[string]any)
	for range r.IntN(4) {
		k := randomString(r)
		if k == "" {
			k = "e"
		}
		m[k] = randomValue(r, depth+1)
	}
	return m
}

func randomList(r *rand.Rand, depth int) []any {
	l := make([]any, r.IntN(4))
	for i := range l {
		l[i] = randomValue(r, depth+1)
	}
	return l
}

func randomValue(r *rand.Rand, depth int) any {
	n := 9
	if depth >= 6 {
		n = 7 // no more containers
	}
	switch r.IntN(n) {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 0
	case 2:
		return randomString(r)
	case 3:
		return []int64{0, -1, math.MaxInt64, math.MinInt64, r.Int64()}[r.IntN(5)]
	case 4:
		return []float64{0.5, -1e-130, 9.99e125, math.Pi, 1e20, r.NormFloat64()}[r.IntN(6)]
	case 5:
		return int32(r.Int32()) // canonicalised to int64
	case 6:
		if r.IntN(2) == 0 {
			return []any{} // empty list
		}
		return map[string]any{} // empty map
	case 7:
		return randomList(r, depth)
	}
	return randomMap(r, depth)
}
