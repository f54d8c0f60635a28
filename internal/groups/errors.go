package groups

import "fmt"

// Kind is what is wrong with a request, for the API to answer with the
// matching error.
type Kind int

const (
	// Invalid: the request is wrong (InvalidRequestException).
	Invalid Kind = iota
	// NotFound: the resource does not exist (ResourceNotFoundException).
	NotFound
	// TooManyTags: a resource would have too many tags (TooManyTagsException).
	TooManyTags
)

// Error is a refusal with a message a person can act on.
type Error struct {
	Kind     Kind
	Message  string
	Resource string // the ARN, for NotFound and TooManyTags
}

func (e *Error) Error() string { return e.Message }

func invalid(format string, args ...any) *Error {
	return &Error{Kind: Invalid, Message: fmt.Sprintf(format, args...)}
}
