package auth

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
)

// Error is a refusal in the X-Ray API's restJson1 error form, with AWS's
// own error names so that SDKs and the CLI report them as they would
// AWS's.
type Error struct {
	Status  int
	Type    string
	Message string
}

func (e *Error) Error() string { return e.Type + ": " + e.Message }

func errMissingToken() *Error {
	return &Error{http.StatusForbidden, "MissingAuthenticationTokenException",
		"Missing Authentication Token: sign the request with SigV4 using a key of the server's --access-keys file"}
}

func errUnknownKey(id string) *Error {
	return &Error{http.StatusForbidden, "UnrecognizedClientException",
		fmt.Sprintf("The security token included in the request is invalid: access key %q is not one of the server's access keys", id)}
}

func errSignature(format string, args ...any) *Error {
	return &Error{http.StatusForbidden, "InvalidSignatureException", fmt.Sprintf(format, args...)}
}

func errIncomplete(format string, args ...any) *Error {
	return &Error{http.StatusForbidden, "IncompleteSignatureException", fmt.Sprintf(format, args...)}
}

func errDenied(id string, role Role, op string) *Error {
	return &Error{http.StatusForbidden, "AccessDeniedException",
		fmt.Sprintf("access key %s (role %s) is not authorized to perform: xray:%s", id, role, op)}
}

func errThrottled(id string) *Error {
	return &Error{http.StatusTooManyRequests, "ThrottledException",
		fmt.Sprintf("Rate exceeded for access key %s; retry later", id)}
}

// WriteError answers with e in the API's error form.
func WriteError(w http.ResponseWriter, e *Error) {
	h := w.Header()
	if h.Get("X-Amzn-RequestId") == "" {
		h.Set("X-Amzn-RequestId", requestID())
	}
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-ErrorType", e.Type)
	if e.Status == http.StatusTooManyRequests {
		h.Set("Retry-After", "1")
	}
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.Type, "message": e.Message})
}

func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	s := hex.EncodeToString(b[:])
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}
