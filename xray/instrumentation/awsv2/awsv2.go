// Package awsv2 traces aws-sdk-go-v2 calls: each call is a subsegment in the
// aws namespace named after the service, with operation, region, request id,
// the resource the call names (table_name, queue_url, bucket_name, ...) and
// the response status.
package awsv2

import (
	"context"
	"reflect"

	v2Middleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/roentgen-tracing/roentgen/xray"
)

type subsegmentKey struct{}

// AWSV2Instrumentor adds the tracing middleware to an aws.Config's
// APIOptions: awsv2.AWSV2Instrumentor(&cfg.APIOptions). By default the
// subsegments carry what aws-xray-sdk-go records, so traces and the service
// graph stay as they were; WithResourceNames adds table_name, queue_url and
// the like.
func AWSV2Instrumentor(apiOptions *[]func(*middleware.Stack) error, opts ...Option) {
	var o options
	for _, f := range opts {
		f(&o)
	}
	*apiOptions = append(*apiOptions, o.initialize, deserialize)
}

// Option changes what AWSV2Instrumentor records.
type Option func(*options)

type options struct{ resourceNames bool }

// WithResourceNames records the resource a call names (table_name,
// table_names, queue_url, bucket_name, key, topic_arn, function_name, ...)
// as the Java, Python and Node SDKs do. Roentgen and X-Ray then draw a node
// per DynamoDB table instead of one DynamoDB node, and trace search can
// filter on them.
func WithResourceNames() Option { return func(o *options) { o.resourceNames = true } }

func (o options) initialize(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("XRayInitializeMiddlewareAfter",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
			out middleware.InitializeOutput, md middleware.Metadata, err error) {
			ctx, seg := xray.BeginSubsegment(ctx, v2Middleware.GetServiceID(ctx))
			if seg == nil {
				return next.HandleInitialize(ctx, in)
			}
			seg.Lock()
			seg.Namespace = "aws"
			aws := seg.GetAWS()
			aws["region"] = v2Middleware.GetRegion(ctx)
			aws["operation"] = v2Middleware.GetOperationName(ctx)
			if o.resourceNames {
				resourceParams(in.Parameters, aws)
			}
			seg.Unlock()
			ctx = context.WithValue(ctx, subsegmentKey{}, seg)
			defer func() { seg.Close(err) }()
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
}

func deserialize(stack *middleware.Stack) error {
	return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("XRayDeserializeMiddleware",
		func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (
			out middleware.DeserializeOutput, md middleware.Metadata, err error) {
			seg, ok := ctx.Value(subsegmentKey{}).(*xray.Segment)
			if !ok {
				return next.HandleDeserialize(ctx, in)
			}
			if req, ok := in.Request.(*smithyhttp.Request); ok {
				req.Header.Set(xray.TraceIDHeaderKey, seg.DownstreamHeader().String())
			}
			out, md, err = next.HandleDeserialize(ctx, in)
			resp, ok := out.RawResponse.(*smithyhttp.Response)
			if !ok {
				return out, md, err
			}
			seg.Lock()
			seg.GetHTTP().GetResponse().ContentLength = int(resp.ContentLength)
			if id, ok := v2Middleware.GetRequestIDMetadata(md); ok {
				seg.GetAWS()[xray.RequestIDKey] = id
			}
			if id2 := resp.Header.Get(xray.S3ExtendedRequestIDHeaderKey); id2 != "" {
				seg.GetAWS()[xray.ExtendedRequestIDKey] = id2
			}
			seg.Unlock()
			xray.HttpCaptureResponse(seg, resp.StatusCode)
			return out, md, err
		}), middleware.Before)
}

// resourceFields are the input members X-Ray records for the service graph
// and trace search (the official SDKs' parameter whitelists, the common ones).
var resourceFields = map[string]string{
	"TableName":       "table_name",
	"QueueUrl":        "queue_url",
	"QueueName":       "queue_name",
	"Bucket":          "bucket_name",
	"Key":             "key",
	"TopicArn":        "topic_arn",
	"FunctionName":    "function_name",
	"StreamName":      "stream_name",
	"StateMachineArn": "state_machine_arn",
}

// resourceParams copies the named string members of a call's input.
func resourceParams(params any, aws map[string]interface{}) {
	v := reflect.ValueOf(params)
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return
	}
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		key, ok := resourceFields[t.Field(i).Name]
		if !ok {
			continue
		}
		f := v.Field(i)
		if f.Kind() == reflect.Pointer && !f.IsNil() {
			f = f.Elem()
		}
		if f.Kind() == reflect.String && f.String() != "" {
			aws[key] = f.String()
		}
	}
	if f := v.FieldByName("RequestItems"); f.IsValid() && f.Kind() == reflect.Map && f.Len() > 0 {
		names := make([]string, 0, f.Len())
		for _, k := range f.MapKeys() {
			if k.Kind() == reflect.String {
				names = append(names, k.String())
			}
		}
		aws["table_names"] = names
	}
}
