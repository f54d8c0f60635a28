package graph

// CombineStatsByAdd is the plain CombineStats, by decoding and adding each
// delta, that the faster one must match byte for byte.
var CombineStatsByAdd = combineStatsByAdd
