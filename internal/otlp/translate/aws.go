package translate

import (
	"strings"

	"github.com/roentgen-tracing/roentgen/internal/segment"
)

// isAWSSpan: a call made by an AWS SDK (namespace "aws").
func isAWSSpan(a *attrs) bool {
	if a.peek("rpc.system") == "aws-api" {
		return true
	}
	_, ok := a.m.Get("aws.service")
	return ok
}

// makeAWS fills `aws`: the call (operation, region, request id, resource) for
// AWS SDK spans, and for segments the resource the service runs on.
func makeAWS(a, ra *attrs, isSegment bool) *segment.AWS {
	var d segment.AWS
	if isAWSSpan(a) {
		a.get("rpc.system")
		d.Operation = a.str("aws.operation", "rpc.method")
		d.Region = a.str("aws.region", "cloud.region")
		d.RequestID = a.str("aws.request_id", "aws.requestId", "aws.request.id")
		d.QueueURL = a.str("aws.sqs.queue_url", "aws.queue_url", "messaging.url")
		if tables := a.strs("aws.dynamodb.table_names", "aws.table_name"); len(tables) == 1 {
			d.TableName = tables[0]
		} else if len(tables) > 1 {
			d.TableNames = tables
		}
		d.BucketName = a.str("aws.s3.bucket")
		d.TopicARN = a.str("aws.sns.topic.arn")
		d.FunctionName = a.str("aws.lambda.function.name", "faas.invoked_name")
		if d.Region == "" {
			d.Region = a.peek("faas.invoked_region")
		}
	}
	if isSegment {
		resourceAWS(&d, ra)
	}
	if d.AccountID == "" && !isSegment {
		d.AccountID = a.str("aws.account_id")
	}
	if isEmptyAWS(&d) {
		return nil
	}
	out := d // a copy, so that d stays off the heap when it is empty
	return &out
}

func isEmptyAWS(d *segment.AWS) bool {
	return d.AccountID == "" && d.Operation == "" && d.Region == "" && d.RequestID == "" && d.QueueURL == "" &&
		d.TableName == "" && d.TableNames == nil && d.BucketName == "" && d.TopicARN == "" && d.FunctionName == "" &&
		d.EC2 == nil && d.ECS == nil && d.EKS == nil && d.ElasticBeanstalk == nil && d.CloudWatchLogs == nil && d.XRay == nil && d.Lambda == nil
}

// resourceAWS reads the resource detectors' attributes (EC2, ECS, EKS,
// Elastic Beanstalk, Lambda) and the SDK that produced the span.
func resourceAWS(d *segment.AWS, ra *attrs) {
	if p := ra.peek("cloud.provider"); p != "" && p != "aws" {
		return
	}
	d.AccountID = ra.peek("cloud.account.id")
	zone := ra.peek("cloud.availability_zone")
	switch ra.peek("cloud.platform") {
	case "aws_ec2":
		d.EC2 = &segment.EC2{InstanceID: ra.peek("host.id"), InstanceSize: ra.peek("host.type"), AMIID: ra.peek("host.image.id"), AvailabilityZone: zone}
	case "aws_ecs":
		d.ECS = &segment.ECS{Container: firstNonEmpty(ra.peek("container.name"), ra.peek("host.name")), ContainerID: ra.peek("container.id"),
			ContainerARN: ra.peek("aws.ecs.container.arn"), TaskARN: ra.peek("aws.ecs.task.arn"), TaskFamily: ra.peek("aws.ecs.task.family"),
			ClusterARN: ra.peek("aws.ecs.cluster.arn"), AvailabilityZone: zone, LaunchType: ra.peek("aws.ecs.launchtype")}
		if id := ra.peek("host.id"); id != "" {
			d.EC2 = &segment.EC2{InstanceID: id, InstanceSize: ra.peek("host.type"), AMIID: ra.peek("host.image.id"), AvailabilityZone: zone}
		}
	case "aws_eks":
		d.EKS = &segment.EKS{Pod: firstNonEmpty(ra.peek("k8s.pod.name"), ra.peek("host.name")), ClusterName: ra.peek("k8s.cluster.name"), ContainerID: ra.peek("container.id")}
		if id := ra.peek("host.id"); id != "" {
			d.EC2 = &segment.EC2{InstanceID: id, InstanceSize: ra.peek("host.type"), AMIID: ra.peek("host.image.id"), AvailabilityZone: zone}
		}
	case "aws_elastic_beanstalk":
		d.ElasticBeanstalk = &segment.ElasticBeanstalk{EnvironmentName: firstNonEmpty(ra.peek("deployment.environment.name"), ra.peek("deployment.environment")), VersionLabel: ra.peek("service.version")}
		if v, ok := (&attrs{m: ra.m}).int("service.instance.id"); ok {
			d.ElasticBeanstalk.DeploymentID = v
		}
	case "aws_lambda":
		if v := ra.peek("faas.version"); v != "" {
			d.Lambda = &segment.Lambda{FunctionVersion: v}
		}
	}
	groups := (&attrs{m: ra.m}).strs("aws.log.group.names")
	arns := (&attrs{m: ra.m}).strs("aws.log.group.arns")
	for i, g := range groups {
		lg := segment.LogGroup{LogGroup: g}
		if i < len(arns) {
			lg.ARN = arns[i]
		}
		d.CloudWatchLogs = append(d.CloudWatchLogs, lg)
	}
	if len(groups) == 0 {
		for _, arn := range arns {
			// arn:aws:logs:<region>:<account>:log-group:<name>[:*]
			parts := strings.Split(arn, ":")
			if len(parts) >= 7 {
				d.CloudWatchLogs = append(d.CloudWatchLogs, segment.LogGroup{LogGroup: parts[6], ARN: arn})
			}
		}
	}
	if sdk := ra.peek("telemetry.sdk.name"); sdk != "" {
		x := &segment.XRaySDK{SDK: sdk, SDKVersion: ra.peek("telemetry.sdk.version")}
		if lang := ra.peek("telemetry.sdk.language"); lang != "" {
			x.SDK += " for " + lang
		}
		// Written even when false, as the exporter does.
		auto := ra.peek("telemetry.auto.version") != "" || ra.peek("telemetry.distro.version") != ""
		x.AutoInstrumentation = &auto
		d.XRay = x
	}
}

// origin is the AWS resource type the service runs on (spec §1.2).
func origin(ra *attrs) string {
	if p := ra.peek("cloud.provider"); p != "" && p != "aws" {
		return ""
	}
	switch ra.peek("cloud.platform") {
	case "aws_ec2":
		return "AWS::EC2::Instance"
	case "aws_ecs":
		switch strings.ToLower(ra.peek("aws.ecs.launchtype")) {
		case "fargate":
			return "AWS::ECS::Fargate"
		case "ec2":
			return "AWS::ECS::EC2"
		}
		return "AWS::ECS::Container"
	case "aws_eks":
		return "AWS::EKS::Container"
	case "aws_lambda":
		return "AWS::Lambda::Function"
	case "aws_elastic_beanstalk":
		return "AWS::ElasticBeanstalk::Environment"
	case "aws_app_runner":
		return "AWS::AppRunner::Service"
	}
	return ""
}

// resourceARN is the ARN of what runs the service: a Lambda function or an
// ECS container, when the detectors report it.
func resourceARN(ra *attrs) string {
	if arn := ra.peek("cloud.resource_id"); strings.HasPrefix(arn, "arn:") {
		return arn
	}
	if ra.peek("cloud.platform") == "aws_ecs" {
		return ra.peek("aws.ecs.container.arn")
	}
	return ""
}

func makeService(ra *attrs) *segment.Service {
	s := segment.Service{
		Version:        firstNonEmpty(ra.peek("service.version"), ra.peek("container.image.tag")),
		Runtime:        ra.peek("process.runtime.name"),
		RuntimeVersion: ra.peek("process.runtime.version"),
	}
	if s == (segment.Service{}) {
		return nil
	}
	return &s
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
