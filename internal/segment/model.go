// Package segment is the X-Ray segment document: its model, its parser and its
// validation rules (spec §1). Everything that ingests documents (UDP, the REST
// API, OTLP translation) goes through Parse, so one set of rules holds everywhere.
package segment

import "encoding/json"

// Segment is one segment or subsegment as Roentgen understands it. Only the
// fields that the server indexes, summarises or draws are typed; the original
// bytes of a top-level document are kept in Raw and returned verbatim by
// BatchGetTraces, so nothing a client sent is lost.
type Segment struct {
	TraceID     string   `json:"trace_id,omitempty"`
	ID          string   `json:"id"`
	ParentID    string   `json:"parent_id,omitempty"`
	Name        string   `json:"name"`
	Type        string   `json:"type,omitempty"`
	Namespace   string   `json:"namespace,omitempty"`
	Origin      string   `json:"origin,omitempty"`
	User        string   `json:"user,omitempty"`
	ResourceARN string   `json:"resource_arn,omitempty"`
	StartTime   float64  `json:"start_time"`
	EndTime     float64  `json:"end_time,omitempty"`
	InProgress  bool     `json:"in_progress,omitempty"`
	Error       bool     `json:"error,omitempty"`
	Throttle    bool     `json:"throttle,omitempty"`
	Fault       bool     `json:"fault,omitempty"`
	Traced      bool     `json:"traced,omitempty"`
	Inferred    bool     `json:"inferred,omitempty"`
	HTTP        *HTTP    `json:"http,omitempty"`
	AWS         *AWS     `json:"aws,omitempty"`
	SQL         *SQL     `json:"sql,omitempty"`
	Cause       *Cause   `json:"cause,omitempty"`
	Service     *Service `json:"service,omitempty"`
	// Annotations hold string, float64 or bool values only (Parse enforces it).
	Annotations  map[string]any `json:"annotations,omitempty"`
	Metadata     Metadata       `json:"metadata,omitempty"`
	Subsegments  []*Segment     `json:"subsegments,omitempty"`
	PrecursorIDs []string       `json:"precursor_ids,omitempty"`
	Links        []Link         `json:"links,omitempty"`

	// Raw is the document exactly as received; set on top-level documents
	// only, and never written: Parse's strings (all but TraceID) refer to
	// it, so one kept long after its segment (a label, a key) keeps the
	// document alive unless it is cloned (strings.Clone).
	Raw []byte `json:"-"`
}

// Metadata is the `metadata` object: namespaces of free-form values that
// the server neither indexes nor summarises. Documents built in memory (the
// OTLP translation) set it to be encoded; Parse leaves it empty, as Raw
// holds it: decoded, a parsed document awaiting its summary kept a map and
// a copy of every value (noscan bytes, but more heap to collect).
type Metadata map[string]json.RawMessage

// UnmarshalJSON skips the value (the decoder has checked it is JSON).
func (*Metadata) UnmarshalJSON([]byte) error { return nil }

// IsIndependentSubsegment reports whether a top-level document is a subsegment
// sent on its own (streamed, async or from Lambda) rather than a segment.
func (s *Segment) IsIndependentSubsegment() bool { return s.Type == "subsegment" }

// Walk calls fn for s and every subsegment below it, depth first, with the
// enclosing (sub)segment as parent (nil for s itself).
func (s *Segment) Walk(fn func(sub, parent *Segment)) {
	var walk func(x, p *Segment)
	walk = func(x, p *Segment) {
		fn(x, p)
		for _, c := range x.Subsegments {
			walk(c, x)
		}
	}
	walk(s, nil)
}

// Duration is end - start in seconds, or 0 for in-progress segments.
func (s *Segment) Duration() float64 {
	if s.InProgress || s.EndTime == 0 {
		return 0
	}
	return s.EndTime - s.StartTime
}

// HTTP is the `http` object (§1.3).
type HTTP struct {
	Request  *HTTPRequest  `json:"request,omitempty"`
	Response *HTTPResponse `json:"response,omitempty"`
}

type HTTPRequest struct {
	Method        string `json:"method,omitempty"`
	URL           string `json:"url,omitempty"`
	UserAgent     string `json:"user_agent,omitempty"`
	ClientIP      string `json:"client_ip,omitempty"`
	XForwardedFor bool   `json:"x_forwarded_for,omitempty"`
	Traced        bool   `json:"traced,omitempty"`
}

type HTTPResponse struct {
	Status        int   `json:"status,omitempty"`
	ContentLength int64 `json:"content_length,omitempty"`
}

// AWS is the `aws` object (§1.4). Segment-level resource data and
// subsegment-level call data share one struct, as they share one JSON key.
type AWS struct {
	AccountID    string   `json:"account_id,omitempty"`
	Operation    string   `json:"operation,omitempty"`
	Region       string   `json:"region,omitempty"`
	RequestID    string   `json:"request_id,omitempty"`
	QueueURL     string   `json:"queue_url,omitempty"`
	TableName    string   `json:"table_name,omitempty"`
	TableNames   []string `json:"table_names,omitempty"`
	Retries      int      `json:"retries,omitempty"`
	TopicARN     string   `json:"topic_arn,omitempty"`
	FunctionName string   `json:"function_name,omitempty"`
	BucketName   string   `json:"bucket_name,omitempty"`
	QueueName    string   `json:"queue_name,omitempty"`
	EC2          *EC2     `json:"ec2,omitempty"`
	ECS          *ECS     `json:"ecs,omitempty"`
	EKS          *EKS     `json:"eks,omitempty"`
	XRay         *XRaySDK `json:"xray,omitempty"`

	// Resource data the OpenTelemetry X-Ray exporter (and so the OTLP
	// translation) writes on segments. The server neither indexes nor draws
	// them; they are typed so that this file stays the one definition of
	// what a segment document holds.
	ElasticBeanstalk *ElasticBeanstalk `json:"elastic_beanstalk,omitempty"`
	CloudWatchLogs   []LogGroup        `json:"cloudwatch_logs,omitempty"`
	Lambda           *Lambda           `json:"lambda,omitempty"`
	// ResourceNames is the exporter's list of AWS resources a call touched;
	// the OTLP translation does not fill it yet.
	ResourceNames []string `json:"resource_names,omitempty"`
}

type EC2 struct {
	InstanceID       string `json:"instance_id,omitempty"`
	InstanceSize     string `json:"instance_size,omitempty"`
	AMIID            string `json:"ami_id,omitempty"`
	AvailabilityZone string `json:"availability_zone,omitempty"`
}

type ECS struct {
	Container        string `json:"container,omitempty"`
	ContainerID      string `json:"container_id,omitempty"`
	ContainerARN     string `json:"container_arn,omitempty"`
	TaskARN          string `json:"task_arn,omitempty"`
	TaskFamily       string `json:"task_family,omitempty"`
	ClusterARN       string `json:"cluster_arn,omitempty"`
	AvailabilityZone string `json:"availability_zone,omitempty"`
	LaunchType       string `json:"launch_type,omitempty"`
}

type EKS struct {
	Pod         string `json:"pod,omitempty"`
	ClusterName string `json:"cluster_name,omitempty"`
	ContainerID string `json:"container_id,omitempty"`
}

type XRaySDK struct {
	SDK              string `json:"sdk,omitempty"`
	SDKVersion       string `json:"sdk_version,omitempty"`
	SamplingRuleName string `json:"sampling_rule_name,omitempty"`
	RuleName         string `json:"rule_name,omitempty"` // Node SDK spelling
	// AutoInstrumentation is a pointer because the exporter writes an
	// explicit false; nil keeps documents that never had it without it.
	AutoInstrumentation *bool `json:"auto_instrumentation,omitempty"`
}

// ElasticBeanstalk is aws.elastic_beanstalk: the environment a segment's
// service runs in.
type ElasticBeanstalk struct {
	EnvironmentName string `json:"environment_name,omitempty"`
	VersionLabel    string `json:"version_label,omitempty"`
	DeploymentID    int64  `json:"deployment_id,omitempty"`
}

// LogGroup is one entry of aws.cloudwatch_logs: a log group the service
// writes to, so a console can link a trace to its logs.
type LogGroup struct {
	LogGroup string `json:"log_group,omitempty"`
	ARN      string `json:"arn,omitempty"`
}

// Lambda is aws.lambda: the version of the function a segment ran in.
type Lambda struct {
	FunctionVersion string `json:"function_version,omitempty"`
}

// SQL is the `sql` object of database subsegments (§1.7).
type SQL struct {
	URL              string `json:"url,omitempty"`
	ConnectionString string `json:"connection_string,omitempty"`
	SanitizedQuery   string `json:"sanitized_query,omitempty"`
	DatabaseType     string `json:"database_type,omitempty"`
	DatabaseVersion  string `json:"database_version,omitempty"`
	DriverVersion    string `json:"driver_version,omitempty"`
	User             string `json:"user,omitempty"`
	Preparation      string `json:"preparation,omitempty"`
}

// Cause is the `cause` object, or a reference to an exception id recorded
// elsewhere in the trace when the document sent a bare string (§1.5).
type Cause struct {
	WorkingDirectory string      `json:"working_directory,omitempty"`
	Paths            []string    `json:"paths,omitempty"`
	Exceptions       []Exception `json:"exceptions,omitempty"`
	// ExceptionID is set instead of the above when `cause` was a string.
	ExceptionID string `json:"-"`
}

type Exception struct {
	ID        string       `json:"id,omitempty"`
	Message   string       `json:"message,omitempty"`
	Type      string       `json:"type,omitempty"`
	Remote    bool         `json:"remote,omitempty"`
	Truncated int          `json:"truncated,omitempty"`
	Skipped   int          `json:"skipped,omitempty"`
	Cause     string       `json:"cause,omitempty"`
	Stack     []StackFrame `json:"stack,omitempty"`
}

type StackFrame struct {
	Path  string `json:"path,omitempty"`
	Line  int    `json:"line,omitempty"`
	Label string `json:"label,omitempty"`
}

// Service is the `service` object; SDKs add runtime fields beside version.
type Service struct {
	Version        string `json:"version,omitempty"`
	Runtime        string `json:"runtime,omitempty"`
	RuntimeVersion string `json:"runtime_version,omitempty"`
}

// Link is a span link written by the OpenTelemetry X-Ray exporter.
type Link struct {
	TraceID    string         `json:"trace_id,omitempty"`
	ID         string         `json:"id,omitempty"`
	Attributes map[string]any `json:"attributes,omitempty"`
}
