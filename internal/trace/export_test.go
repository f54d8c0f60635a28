package trace

// AsIfShared makes tr's walks keep the set of ids they saw and look
// children up by id, as they do when
// two (sub)segments share an id (Tree.distinct).
func AsIfShared(tr *Tree) { tr.distinct, tr.plain = false, false }

// Distinct is tr.distinct.
func Distinct(tr *Tree) bool { return tr.distinct }
