package api

import (
	"fmt"
	"net/http"
)

// Error is an API error in restJson1 form: the HTTP status, the shape name
// sent in X-Amzn-ErrorType and __type, and a message a person can act on.
type Error struct {
	Status       int
	Type         string
	Message      string
	ResourceName string
}

func (e *Error) Error() string { return e.Type + ": " + e.Message }

// invalid is InvalidRequestException, the answer to a request that is wrong.
func invalid(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Type: "InvalidRequestException", Message: fmt.Sprintf(format, args...)}
}

// throttled is ThrottledException (429): the request was refused as a
// whole for load, and the client's retry policy should try it again.
func throttled(format string, args ...any) *Error {
	return &Error{Status: http.StatusTooManyRequests, Type: "ThrottledException", Message: fmt.Sprintf(format, args...)}
}

// notFound is ResourceNotFoundException.
func notFound(resource, format string, args ...any) *Error {
	return &Error{Status: http.StatusNotFound, Type: "ResourceNotFoundException", Message: fmt.Sprintf(format, args...), ResourceName: resource}
}
