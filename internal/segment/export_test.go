package segment

// DecodeFast is decodeFast with every object allocated on its own, for the
// differential tests of package segment_test (which may import
// internal/bench).
func DecodeFast(doc []byte, s *Segment) bool { return decodeFast(doc, s, nil) }

// DecodeFastBlock is decodeFast as parseOne calls it.
func DecodeFastBlock(doc []byte, s *Segment) bool {
	blk := new(docBlock)
	if !decodeFast(doc, &blk.seg, blk) {
		return false
	}
	*s = blk.seg
	return true
}
