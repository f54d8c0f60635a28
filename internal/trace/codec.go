package trace

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/roentgen-tracing/roentgen/internal/fieldcodec"
)

// summaryCodec stores every exported field of Summary by its json name:
// fields others add to Summary are stored with no change here. Searches
// decode summaries by the hundred thousand, which is why this is not JSON.
var summaryCodec = func() *fieldcodec.Codec[Summary] {
	c, err := fieldcodec.New[Summary]()
	if err != nil {
		panic(err) // a Summary field of a kind the codec cannot store: see codec_test.go
	}
	return c
}()

// packedSummaryCodec writes ids in binary (fieldcodec's packed form).
var packedSummaryCodec = summaryCodec.Packed()

// The first byte of an encoded summary says its form. Each form stays
// readable: stores and ClickHouse rows hold summaries of every earlier
// build. Summaries stored as JSON (before the binary form) begin with '{'.
const (
	summaryKeyed  = 0x01 // fieldcodec, strings as written
	summaryPacked = 0x02 // fieldcodec's packed form: hex ids in binary
)

// EncodeSummary is the stored form of a summary.
func EncodeSummary(s *Summary) ([]byte, error) {
	return AppendSummary(make([]byte, 0, 1024), s)
}

// AppendSummary appends the stored form of s to dst.
func AppendSummary(dst []byte, s *Summary) ([]byte, error) {
	return packedSummaryCodec.Append(append(dst, summaryPacked), s)
}

// DecodeSummary reads a stored summary. The result shares no memory with b.
func DecodeSummary(b []byte) (*Summary, error) {
	s := new(Summary)
	if len(b) == 0 {
		return nil, fmt.Errorf("stored summary is empty")
	}
	switch b[0] {
	case summaryPacked:
		if err := packedSummaryCodec.Decode(b[1:], s); err != nil {
			return nil, err
		}
	case summaryKeyed:
		if err := summaryCodec.Decode(b[1:], s); err != nil {
			return nil, err
		}
	case '{':
		if err := json.Unmarshal(b, s); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("stored summary has unknown format byte %#x", b[0])
	}
	return s, nil
}

func formatNumber(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
