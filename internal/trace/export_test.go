package trace

// AsIfShared makes tr's walks keep the set of ids they saw, as they do when
// two (sub)segments share an id (Tree.distinct).
func AsIfShared(tr *Tree) { tr.distinct = false }

// Distinct is tr.distinct.
func Distinct(tr *Tree) bool { return tr.distinct }
