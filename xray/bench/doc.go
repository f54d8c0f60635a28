// Package bench compares the Roentgen X-Ray SDK with aws-xray-sdk-go on the
// same scenarios, in one `go test -bench` run. It is a separate module so
// that the SDK itself never depends on aws-xray-sdk-go.
package bench
