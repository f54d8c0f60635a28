package segment

// DecodeFast is decodeFast, for the differential tests of package
// segment_test (which may import internal/bench).
var DecodeFast = decodeFast
