package segment

import "encoding/json"

// UnmarshalJSON accepts both forms of `cause`: an object, or the 16-hex id of
// an exception recorded elsewhere in the trace.
func (c *Cause) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &c.ExceptionID)
	}
	type plain Cause
	return json.Unmarshal(b, (*plain)(c))
}

// MarshalJSON writes the form the cause was received in.
func (c Cause) MarshalJSON() ([]byte, error) {
	if c.ExceptionID != "" && len(c.Exceptions) == 0 {
		return json.Marshal(c.ExceptionID)
	}
	type plain Cause
	return json.Marshal(plain(c))
}
