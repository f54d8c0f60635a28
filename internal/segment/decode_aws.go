package segment

// The `aws` object and its resource objects, for decodeFast.

// aws reads an aws object into top's, with its xray object, or into new
// ones if top is nil.
func (s *scanner) aws(p **AWS, top *docBlock, depth int) bool {
	if s.ws() == 'n' {
		return s.literal("null")
	}
	if !s.open() {
		return false
	}
	var a *AWS
	var xray *XRaySDK
	if top != nil {
		a, xray = &top.aws, &top.xray
	} else {
		a = new(AWS)
	}
	var seen uint64
	k, done, ok := s.firstKey()
	for ; ok && !done; k, done, ok = s.nextKey() {
		switch string(k) {
		case "account_id":
			ok = once(&seen, 0) && s.strField(&a.AccountID)
		case "operation":
			ok = once(&seen, 1) && s.strField(&a.Operation)
		case "region":
			ok = once(&seen, 2) && s.strField(&a.Region)
		case "request_id":
			ok = once(&seen, 3) && s.strField(&a.RequestID)
		case "queue_url":
			ok = once(&seen, 4) && s.strField(&a.QueueURL)
		case "table_name":
			ok = once(&seen, 5) && s.strField(&a.TableName)
		case "table_names":
			ok = once(&seen, 6) && s.strings(&a.TableNames)
		case "retries":
			ok = once(&seen, 7) && s.intField(&a.Retries)
		case "topic_arn":
			ok = once(&seen, 8) && s.strField(&a.TopicARN)
		case "function_name":
			ok = once(&seen, 9) && s.strField(&a.FunctionName)
		case "bucket_name":
			ok = once(&seen, 10) && s.strField(&a.BucketName)
		case "queue_name":
			ok = once(&seen, 11) && s.strField(&a.QueueName)
		case "ec2":
			ok = once(&seen, 12) && s.ec2(&a.EC2)
		case "ecs":
			ok = once(&seen, 13) && s.ecs(&a.ECS)
		case "eks":
			ok = once(&seen, 14) && s.eks(&a.EKS)
		case "xray":
			ok = once(&seen, 15) && s.xray(&a.XRay, xray)
		case "elastic_beanstalk":
			ok = once(&seen, 16) && s.beanstalk(&a.ElasticBeanstalk)
		case "cloudwatch_logs":
			ok = once(&seen, 17) && s.logGroups(&a.CloudWatchLogs)
		case "lambda":
			ok = once(&seen, 18) && s.lambda(&a.Lambda)
		case "resource_names":
			ok = once(&seen, 19) && s.strings(&a.ResourceNames)
		default:
			ok = unknownKey(k) && s.skip(depth+1)
		}
		if !ok {
			return false
		}
	}
	*p = a
	return ok
}

func (s *scanner) ec2(p **EC2) bool {
	if s.ws() == 'n' {
		return s.literal("null")
	}
	if !s.open() {
		return false
	}
	v := new(EC2)
	var seen uint64
	k, done, ok := s.firstKey()
	for ; ok && !done; k, done, ok = s.nextKey() {
		switch string(k) {
		case "instance_id":
			ok = once(&seen, 0) && s.strField(&v.InstanceID)
		case "instance_size":
			ok = once(&seen, 1) && s.strField(&v.InstanceSize)
		case "ami_id":
			ok = once(&seen, 2) && s.strField(&v.AMIID)
		case "availability_zone":
			ok = once(&seen, 3) && s.strField(&v.AvailabilityZone)
		default:
			ok = unknownKey(k) && s.skip(3)
		}
		if !ok {
			return false
		}
	}
	*p = v
	return ok
}

func (s *scanner) ecs(p **ECS) bool {
	if s.ws() == 'n' {
		return s.literal("null")
	}
	if !s.open() {
		return false
	}
	v := new(ECS)
	var seen uint64
	k, done, ok := s.firstKey()
	for ; ok && !done; k, done, ok = s.nextKey() {
		switch string(k) {
		case "container":
			ok = once(&seen, 0) && s.strField(&v.Container)
		case "container_id":
			ok = once(&seen, 1) && s.strField(&v.ContainerID)
		case "container_arn":
			ok = once(&seen, 2) && s.strField(&v.ContainerARN)
		case "task_arn":
			ok = once(&seen, 3) && s.strField(&v.TaskARN)
		case "task_family":
			ok = once(&seen, 4) && s.strField(&v.TaskFamily)
		case "cluster_arn":
			ok = once(&seen, 5) && s.strField(&v.ClusterARN)
		case "availability_zone":
			ok = once(&seen, 6) && s.strField(&v.AvailabilityZone)
		case "launch_type":
			ok = once(&seen, 7) && s.strField(&v.LaunchType)
		default:
			ok = unknownKey(k) && s.skip(3)
		}
		if !ok {
			return false
		}
	}
	*p = v
	return ok
}

func (s *scanner) eks(p **EKS) bool {
	if s.ws() == 'n' {
		return s.literal("null")
	}
	if !s.open() {
		return false
	}
	v := new(EKS)
	var seen uint64
	k, done, ok := s.firstKey()
	for ; ok && !done; k, done, ok = s.nextKey() {
		switch string(k) {
		case "pod":
			ok = once(&seen, 0) && s.strField(&v.Pod)
		case "cluster_name":
			ok = once(&seen, 1) && s.strField(&v.ClusterName)
		case "container_id":
			ok = once(&seen, 2) && s.strField(&v.ContainerID)
		default:
			ok = unknownKey(k) && s.skip(3)
		}
		if !ok {
			return false
		}
	}
	*p = v
	return ok
}

func (s *scanner) lambda(p **Lambda) bool {
	if s.ws() == 'n' {
		return s.literal("null")
	}
	if !s.open() {
		return false
	}
	v := new(Lambda)
	var seen uint64
	k, done, ok := s.firstKey()
	for ; ok && !done; k, done, ok = s.nextKey() {
		switch string(k) {
		case "function_version":
			ok = once(&seen, 0) && s.strField(&v.FunctionVersion)
		default:
			ok = unknownKey(k) && s.skip(3)
		}
		if !ok {
			return false
		}
	}
	*p = v
	return ok
}

func (s *scanner) xray(p **XRaySDK, v *XRaySDK) bool {
	if s.ws() == 'n' {
		return s.literal("null")
	}
	if !s.open() {
		return false
	}
	if v == nil {
		v = new(XRaySDK)
	}
	var seen uint64
	k, done, ok := s.firstKey()
	for ; ok && !done; k, done, ok = s.nextKey() {
		switch string(k) {
		case "sdk":
			ok = once(&seen, 0) && s.strField(&v.SDK)
		case "sdk_version":
			ok = once(&seen, 1) && s.strField(&v.SDKVersion)
		case "sampling_rule_name":
			ok = once(&seen, 2) && s.strField(&v.SamplingRuleName)
		case "rule_name":
			ok = once(&seen, 3) && s.strField(&v.RuleName)
		case "auto_instrumentation":
			ok = once(&seen, 4)
			if ok && !s.null() {
				var b bool
				b, ok = s.boolean()
				v.AutoInstrumentation = &b
			}
		default:
			ok = unknownKey(k) && s.skip(3)
		}
		if !ok {
			return false
		}
	}
	*p = v
	return ok
}

func (s *scanner) beanstalk(p **ElasticBeanstalk) bool {
	if s.ws() == 'n' {
		return s.literal("null")
	}
	if !s.open() {
		return false
	}
	v := new(ElasticBeanstalk)
	var seen uint64
	k, done, ok := s.firstKey()
	for ; ok && !done; k, done, ok = s.nextKey() {
		switch string(k) {
		case "environment_name":
			ok = once(&seen, 0) && s.strField(&v.EnvironmentName)
		case "version_label":
			ok = once(&seen, 1) && s.strField(&v.VersionLabel)
		case "deployment_id":
			ok = once(&seen, 2) && s.int64Field(&v.DeploymentID)
		default:
			ok = unknownKey(k) && s.skip(3)
		}
		if !ok {
			return false
		}
	}
	*p = v
	return ok
}

func (s *scanner) logGroups(p *[]LogGroup) bool {
	if s.ws() == 'n' {
		return s.literal("null")
	}
	if !s.openArray() {
		return false
	}
	out := []LogGroup{}
	done, ok := s.firstElem()
	for ; ok && !done; done, ok = s.nextElem() {
		var g LogGroup
		if !s.open() {
			return false
		}
		var seen uint64
		k, done, ok := s.firstKey()
		for ; ok && !done; k, done, ok = s.nextKey() {
			switch string(k) {
			case "log_group":
				ok = once(&seen, 0) && s.strField(&g.LogGroup)
			case "arn":
				ok = once(&seen, 1) && s.strField(&g.ARN)
			default:
				ok = unknownKey(k) && s.skip(4)
			}
			if !ok {
				return false
			}
		}
		if !ok {
			return false
		}
		out = append(out, g)
	}
	*p = out
	return ok
}
