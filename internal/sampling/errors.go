package sampling

import "fmt"

// Error is a request the sampling service refuses. The API answers Invalid
// with InvalidRequestException and Limit with RuleLimitExceededException.
type Error struct {
	Limit   bool
	Message string
}

func (e *Error) Error() string { return e.Message }

func invalidf(format string, args ...any) *Error {
	return &Error{Message: fmt.Sprintf(format, args...)}
}
