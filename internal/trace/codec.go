package trace

import (
	"encoding/json"
	"strconv"
)

// EncodeSummary is the stored form of a summary.
func EncodeSummary(s *Summary) ([]byte, error) { return json.Marshal(s) }

// DecodeSummary reads a stored summary.
func DecodeSummary(b []byte) (*Summary, error) {
	s := new(Summary)
	if err := json.Unmarshal(b, s); err != nil {
		return nil, err
	}
	return s, nil
}

func formatNumber(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
