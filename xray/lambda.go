package xray

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/roentgen-tracing/roentgen/xray/header"
)

// Lambda keys and files.
const (
	// LambdaTraceHeaderKey is the context key aws-lambda-go stores the
	// invocation's trace header under.
	LambdaTraceHeaderKey     string = "x-amzn-trace-id"
	LambdaTaskRootKey        string = "LAMBDA_TASK_ROOT"
	SDKInitializedFileFolder string = "/tmp/.aws-xray"
	SDKInitializedFileName   string = "initialized"
	lambdaTraceEnv                  = "_X_AMZN_TRACE_ID"
)

func inLambda() bool { return os.Getenv(LambdaTaskRootKey) != "" }

// lambdaHeader is the invocation's trace header: the context value set by
// aws-lambda-go, else _X_AMZN_TRACE_ID inside Lambda.
func lambdaHeader(ctx context.Context) *header.Header {
	if v, ok := ctx.Value(LambdaTraceHeaderKey).(string); ok && v != "" {
		return header.FromString(v)
	}
	if inLambda() {
		if v := os.Getenv(lambdaTraceEnv); v != "" {
			return header.FromString(v)
		}
	}
	return nil
}

// initLambda signals the SDK's initialisation to the Lambda runtime, as the
// official SDKs do.
func initLambda() {
	if !inLambda() {
		return
	}
	if err := os.MkdirAll(SDKInitializedFileFolder, 0o755); err != nil {
		return
	}
	p := filepath.Join(SDKInitializedFileFolder, SDKInitializedFileName)
	if f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
		_ = f.Close()
	}
	now := time.Now()
	_ = os.Chtimes(p, now, now)
}
