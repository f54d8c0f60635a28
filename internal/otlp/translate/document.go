package translate

// document is the segment document the translation writes. It is a superset
// of what internal/segment types: fields such as aws.ecs.task_family or
// aws.xray.auto_instrumentation survive in the raw bytes that BatchGetTraces
// returns, even though the server does not index them.
type document struct {
	Name        string                    `json:"name"`
	ID          string                    `json:"id"`
	TraceID     string                    `json:"trace_id"`
	ParentID    string                    `json:"parent_id,omitempty"`
	Type        string                    `json:"type,omitempty"`
	StartTime   float64                   `json:"start_time"`
	EndTime     float64                   `json:"end_time,omitempty"`
	InProgress  bool                      `json:"in_progress,omitempty"`
	Namespace   string                    `json:"namespace,omitempty"`
	Origin      string                    `json:"origin,omitempty"`
	User        string                    `json:"user,omitempty"`
	ResourceARN string                    `json:"resource_arn,omitempty"`
	Fault       bool                      `json:"fault,omitempty"`
	Error       bool                      `json:"error,omitempty"`
	Throttle    bool                      `json:"throttle,omitempty"`
	Cause       *cause                    `json:"cause,omitempty"`
	HTTP        *httpData                 `json:"http,omitempty"`
	AWS         *awsData                  `json:"aws,omitempty"`
	SQL         *sqlData                  `json:"sql,omitempty"`
	Service     *serviceData              `json:"service,omitempty"`
	Annotations map[string]any            `json:"annotations,omitempty"`
	Metadata    map[string]map[string]any `json:"metadata,omitempty"`
	Links       []link                    `json:"links,omitempty"`
}

type httpData struct {
	Request  *httpRequest  `json:"request,omitempty"`
	Response *httpResponse `json:"response,omitempty"`
}

type httpRequest struct {
	Method        string `json:"method,omitempty"`
	URL           string `json:"url,omitempty"`
	UserAgent     string `json:"user_agent,omitempty"`
	ClientIP      string `json:"client_ip,omitempty"`
	XForwardedFor bool   `json:"x_forwarded_for,omitempty"`
}

type httpResponse struct {
	Status        int64 `json:"status,omitempty"`
	ContentLength int64 `json:"content_length,omitempty"`
}

type awsData struct {
	AccountID      string         `json:"account_id,omitempty"`
	Operation      string         `json:"operation,omitempty"`
	Region         string         `json:"region,omitempty"`
	RequestID      string         `json:"request_id,omitempty"`
	QueueURL       string         `json:"queue_url,omitempty"`
	TableName      string         `json:"table_name,omitempty"`
	TableNames     []string       `json:"table_names,omitempty"`
	BucketName     string         `json:"bucket_name,omitempty"`
	TopicARN       string         `json:"topic_arn,omitempty"`
	FunctionName   string         `json:"function_name,omitempty"`
	EC2            *ec2Data       `json:"ec2,omitempty"`
	ECS            *ecsData       `json:"ecs,omitempty"`
	EKS            *eksData       `json:"eks,omitempty"`
	Beanstalk      *beanstalkData `json:"elastic_beanstalk,omitempty"`
	CloudWatchLogs []logGroup     `json:"cloudwatch_logs,omitempty"`
	XRay           *xrayData      `json:"xray,omitempty"`
	Lambda         *lambdaData    `json:"lambda,omitempty"`
	ResourceNames  []string       `json:"resource_names,omitempty"`
}

type ec2Data struct {
	InstanceID       string `json:"instance_id,omitempty"`
	InstanceSize     string `json:"instance_size,omitempty"`
	AMIID            string `json:"ami_id,omitempty"`
	AvailabilityZone string `json:"availability_zone,omitempty"`
}

type ecsData struct {
	Container        string `json:"container,omitempty"`
	ContainerID      string `json:"container_id,omitempty"`
	ContainerARN     string `json:"container_arn,omitempty"`
	TaskARN          string `json:"task_arn,omitempty"`
	TaskFamily       string `json:"task_family,omitempty"`
	ClusterARN       string `json:"cluster_arn,omitempty"`
	AvailabilityZone string `json:"availability_zone,omitempty"`
	LaunchType       string `json:"launch_type,omitempty"`
}

type eksData struct {
	Pod         string `json:"pod,omitempty"`
	ClusterName string `json:"cluster_name,omitempty"`
	ContainerID string `json:"container_id,omitempty"`
}

type beanstalkData struct {
	EnvironmentName string `json:"environment_name,omitempty"`
	VersionLabel    string `json:"version_label,omitempty"`
	DeploymentID    int64  `json:"deployment_id,omitempty"`
}

type logGroup struct {
	LogGroup string `json:"log_group,omitempty"`
	ARN      string `json:"arn,omitempty"`
}

type xrayData struct {
	SDK                 string `json:"sdk,omitempty"`
	SDKVersion          string `json:"sdk_version,omitempty"`
	AutoInstrumentation bool   `json:"auto_instrumentation"`
}

type lambdaData struct {
	FunctionVersion string `json:"function_version,omitempty"`
}

type sqlData struct {
	URL              string `json:"url,omitempty"`
	ConnectionString string `json:"connection_string,omitempty"`
	SanitizedQuery   string `json:"sanitized_query,omitempty"`
	DatabaseType     string `json:"database_type,omitempty"`
	DatabaseVersion  string `json:"database_version,omitempty"`
	User             string `json:"user,omitempty"`
}

type serviceData struct {
	Version         string `json:"version,omitempty"`
	Runtime         string `json:"runtime,omitempty"`
	RuntimeVersion  string `json:"runtime_version,omitempty"`
	Compiler        string `json:"compiler,omitempty"`
	CompilerVersion string `json:"compiler_version,omitempty"`
}

type cause struct {
	WorkingDirectory string      `json:"working_directory,omitempty"`
	Exceptions       []exception `json:"exceptions,omitempty"`
}

type exception struct {
	ID        string       `json:"id"`
	Type      string       `json:"type,omitempty"`
	Message   string       `json:"message,omitempty"`
	Remote    bool         `json:"remote,omitempty"`
	Truncated int          `json:"truncated,omitempty"`
	Stack     []stackFrame `json:"stack,omitempty"`
}

type stackFrame struct {
	Path  string `json:"path,omitempty"`
	Line  int    `json:"line,omitempty"`
	Label string `json:"label,omitempty"`
}

type link struct {
	TraceID    string         `json:"trace_id"`
	ID         string         `json:"id"`
	Attributes map[string]any `json:"attributes,omitempty"`
}
