package api

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"time"
)

// Timestamp is an API timestamp: epoch seconds as a JSON number, fractions
// allowed. Input also accepts an RFC 3339 string, as some tools send one.
type Timestamp float64

// UnmarshalJSON accepts a number or an RFC 3339 / numeric string.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return &validationError{"timestamp " + strconv.Quote(s) + " is not a finite number of epoch seconds"}
			}
			*t = Timestamp(f)
			return nil
		}
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return &validationError{"timestamp " + strconv.Quote(s) + " is neither epoch seconds nor RFC 3339"}
		}
		*t = Timestamp(float64(tm.UnixNano()) / 1e9)
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return &validationError{"timestamp " + string(b) + " is not a number of epoch seconds"}
	}
	*t = Timestamp(f)
	return nil
}

// Time converts to time.Time.
func (t Timestamp) Time() time.Time {
	sec, frac := math.Modf(float64(t))
	return time.Unix(int64(sec), int64(frac*1e9))
}

// ts makes a Timestamp from a time.
func ts(t time.Time) Timestamp { return Timestamp(float64(t.UnixNano()) / 1e9) }

// MarshalJSON writes epoch seconds with at most microsecond precision.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, math.Round(float64(t)*1e6)/1e6, 'f', -1, 64), nil
}
