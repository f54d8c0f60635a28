package trace

import (
	"encoding/json"
	"net/url"
	"strings"

	"github.com/roentgen-tracing/roentgen/internal/segment"
)

// Node types Roentgen gives inferred nodes whose type X-Ray does not
// document (spec §6.2, open question 6): SQL databases are "Database::SQL",
// as the X-Ray console draws them; every other non-AWS downstream is "remote".
const (
	TypeRemote = "remote"
	TypeSQL    = "Database::SQL"
	TypeClient = "client"
)

// Inference is a downstream call whose callee did not report a segment of
// its own: X-Ray draws the callee from the caller's subsegment (§6.1 step 4).
type Inference struct {
	// Sub is the caller's subsegment; Owner the caller's segment.
	Sub, Owner *segment.Segment
	// Node is the inferred callee.
	Node NodeID
	// ID is the inferred segment's id, derived from Sub's so that it is the
	// same every time the trace is read.
	ID string
}

// Inferences lists the inferred callees of a trace, in segment order. A
// subsegment is a downstream call when its namespace is "aws" or "remote",
// or it carries `sql` or an outbound `http.request.url`. Calls nested inside
// another call (the HTTP request below an AWS SDK call, retry attempts) are
// part of the outer call, and a call whose callee reported its own segment
// (a segment whose parent_id is the subsegment) is not inferred.
func (tr *Tree) Inferences() []Inference { return tr.appendInferences(nil, true) }

// appendInferences appends the Inferences to out, without their IDs
// unless ids (a summary needs none: idIs compares one without making it).
func (tr *Tree) appendInferences(out []Inference, ids bool) []Inference {
	for _, seg := range tr.Segments {
		// Tree.Walk's visit, in its order, with whether the parent is
		// covered passed down rather than kept in a map by id (each id is
		// visited once per walk, so the two agree).
		var seen *idSet
		if !tr.distinct {
			seen = new(idSet) // on the stack: inferBelow does not keep it
			seen.add(seg.ID)
		}
		for _, c := range tr.childrenOf(seg) {
			out = tr.inferBelow(seen, out, seg, c, false, ids)
		}
	}
	return out
}

// inferBelow appends the inferences of x and below it, whose parent is
// covered: a call itself, or inside one, or called a traced callee. seen
// is nil for a tree whose ids are distinct.
func (tr *Tree) inferBelow(seen *idSet, out []Inference, seg, x *segment.Segment, covered, ids bool) []Inference {
	if seen != nil && !seen.add(x.ID) {
		return out
	}
	if !covered {
		if len(tr.CalledBy[x.ID]) > 0 {
			covered = true
		} else if isCall(x) {
			covered = true
			inf := Inference{Sub: x, Owner: seg, Node: InferredNode(x)}
			if ids {
				inf.ID = inferredID(x.ID)
			}
			out = append(out, inf)
		}
	}
	for _, c := range tr.childrenOf(x) {
		out = tr.inferBelow(seen, out, seg, c, covered, ids)
	}
	return out
}

func isCall(x *segment.Segment) bool {
	switch x.Namespace {
	case "aws", "remote":
		return true
	}
	return x.SQL != nil || x.HTTP != nil && x.HTTP.Request != nil && x.HTTP.Request.URL != ""
}

// inferredID derives a 16-hex segment id from the subsegment id.
// It is FNV-1a (64 bits) of "inferred:" and the id, in zero-padded hex,
// computed inline: hash/fnv's hasher and the padding took three
// allocations per inference.
func inferredID(subID string) string {
	var out [16]byte
	return string(appendInferredID(&out, subID))
}

// idIs reports whether the inference's ID (made or not) is id.
func (inf *Inference) idIs(id string) bool {
	if inf.ID != "" {
		return inf.ID == id
	}
	var buf [16]byte
	return string(appendInferredID(&buf, inf.Sub.ID)) == id // compared, not allocated
}

// appendInferredID writes inferredID(subID) into out.
func appendInferredID(out *[16]byte, subID string) []byte {
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	for i := range len(inferredPrefix) {
		h = (h ^ uint64(inferredPrefix[i])) * prime
	}
	for i := range len(subID) {
		h = (h ^ uint64(subID[i])) * prime
	}
	for i := 15; i >= 0; i-- {
		out[i] = hexDigits[h&15]
		h >>= 4
	}
	return out[:]
}

const (
	inferredPrefix = "inferred:"
	hexDigits      = "0123456789abcdef"
)

// awsServices maps the lower-cased subsegment names the SDKs use (Go and
// Node: "DynamoDB", Python: "dynamodb") to X-Ray's service names.
var awsServices = map[string]string{
	"dynamodb": "DynamoDB", "s3": "S3", "sqs": "SQS", "sns": "SNS", "lambda": "Lambda",
	"kinesis": "Kinesis", "firehose": "Firehose", "sts": "STS", "ec2": "EC2",
	"stepfunctions": "StepFunctions", "sfn": "StepFunctions", "eventbridge": "EventBridge",
	"events": "EventBridge", "secretsmanager": "SecretsManager", "ssm": "SSM",
	"kms": "KMS", "cloudwatch": "CloudWatch", "logs": "CloudWatchLogs",
	"apigateway": "APIGateway", "ses": "SES", "sesv2": "SES", "bedrock": "Bedrock",
	"bedrock-runtime": "BedrockRuntime", "athena": "Athena", "glue": "Glue", "rds": "RDS",
	"elasticache": "ElastiCache", "cognito-idp": "CognitoIdentityProvider",
}

// awsTypes are "AWS::"+name for the services of awsServices, built once.
var awsTypes = func() map[string]string {
	m := make(map[string]string, len(awsServices))
	for _, svc := range awsServices {
		m[svc] = "AWS::" + svc
	}
	return m
}()

// awsService is awsServices[strings.ToLower(name)], lower-casing short
// ASCII names on the stack: the SDKs' "DynamoDB" made ToLower allocate
// for every inferred AWS callee.
func awsService(name string) string {
	var buf [24]byte
	if len(name) > len(buf) {
		return awsServices[strings.ToLower(name)]
	}
	for i := range len(name) {
		c := name[i]
		if c >= 0x80 {
			return awsServices[strings.ToLower(name)]
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return awsServices[string(buf[:len(name)])] // a lookup that does not allocate
}

func awsType(svc string) string {
	if t, ok := awsTypes[svc]; ok {
		return t
	}
	return "AWS::" + svc
}

// InferredNode names and types the callee of a downstream call (§6.2):
// AWS resources as X-Ray names them (a DynamoDB table by its table name,
// typed AWS::DynamoDB::Table; SNS as "SNS", AWS::SNS), SQL databases by the
// subsegment name, anything else as a "remote" node named by the subsegment.
func InferredNode(x *segment.Segment) NodeID {
	id := NodeID{Name: x.Name}
	if x.AWS != nil {
		id.AccountID = x.AWS.AccountID
	}
	switch {
	case x.Namespace == "aws":
		svc := awsService(x.Name)
		if svc == "" {
			svc = x.Name
		}
		id.Name, id.Type = svc, awsType(svc)
		a := x.AWS
		if a == nil {
			return id
		}
		switch svc {
		case "DynamoDB":
			if t := a.TableName; t != "" {
				id.Name, id.Type = t, "AWS::DynamoDB::Table"
			} else if len(a.TableNames) == 1 {
				id.Name, id.Type = a.TableNames[0], "AWS::DynamoDB::Table"
			}
		case "S3":
			if a.BucketName != "" {
				id.Name, id.Type = a.BucketName, "AWS::S3::Bucket"
			}
		case "SQS":
			if q := queueName(a); q != "" {
				id.Name, id.Type = q, "AWS::SQS::Queue"
			}
		case "Lambda":
			if a.FunctionName != "" {
				id.Name = lastARNPart(a.FunctionName)
			}
		}
	case x.SQL != nil:
		id.Type = TypeSQL
	default:
		id.Type = TypeRemote
	}
	return id
}

func queueName(a *segment.AWS) string {
	if a.QueueName != "" {
		return a.QueueName
	}
	if a.QueueURL == "" {
		return ""
	}
	if u, err := url.Parse(a.QueueURL); err == nil {
		p := strings.Split(strings.Trim(u.Path, "/"), "/")
		return p[len(p)-1]
	}
	return ""
}

// lastARNPart turns "arn:aws:lambda:r:a:function:name" into "name"; plain
// names pass through.
func lastARNPart(s string) string {
	if !strings.HasPrefix(s, "arn:") {
		return s
	}
	p := strings.Split(s, ":")
	if len(p) >= 7 && p[5] == "function" {
		return p[6]
	}
	return p[len(p)-1]
}

// infer adds the inferred nodes, segments and edges of downstream calls whose
// callee did not report its own segment (spec §6.1 step 4).
func (b *builder) infer() {
	for _, inf := range b.infs { // set by summarize
		from, ok := b.lookupNode(NodeOf(inf.Owner))
		if !ok {
			continue
		}
		to := b.node(inf.Node, true)
		f := factOf(inf.Sub, to)
		f.Inferred = true
		b.s.Segments = append(b.s.Segments, f)
		b.s.Edges = append(b.s.Edges, edgeOf(inf.Sub, from, to))
	}
}

// InferredDocument is the document BatchGetTraces returns for an inferred
// segment: the subsegment's name, times, flags, http and aws data, with a
// new id, the subsegment as parent, the inferred type as origin and
// "inferred": true (the devguide's BatchGetTraces example).
func InferredDocument(traceID string, inf Inference) ([]byte, error) {
	x := inf.Sub
	doc := struct {
		ID         string         `json:"id"`
		Name       string         `json:"name"`
		StartTime  float64        `json:"start_time"`
		EndTime    float64        `json:"end_time,omitempty"`
		InProgress bool           `json:"in_progress,omitempty"`
		ParentID   string         `json:"parent_id"`
		Inferred   bool           `json:"inferred"`
		Error      bool           `json:"error,omitempty"`
		Throttle   bool           `json:"throttle,omitempty"`
		Fault      bool           `json:"fault,omitempty"`
		Cause      *segment.Cause `json:"cause,omitempty"`
		HTTP       *segment.HTTP  `json:"http,omitempty"`
		AWS        *segment.AWS   `json:"aws,omitempty"`
		SQL        *segment.SQL   `json:"sql,omitempty"`
		TraceID    string         `json:"trace_id"`
		Origin     string         `json:"origin"`
	}{
		ID: inf.ID, Name: x.Name, StartTime: x.StartTime, EndTime: x.EndTime, InProgress: x.InProgress,
		ParentID: x.ID, Inferred: true, Error: x.Error, Throttle: x.Throttle, Fault: x.Fault,
		HTTP: x.HTTP, AWS: x.AWS, SQL: x.SQL, TraceID: traceID, Origin: inf.Node.Type,
	}
	if x.Cause != nil && len(x.Cause.Exceptions) > 0 {
		doc.Cause = x.Cause
	}
	return json.Marshal(doc)
}
