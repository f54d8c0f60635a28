// Package eks records the EKS pod the program runs in (origin
// AWS::EKS::Container and aws.eks): the pod (host name), the container id
// (from the cgroup) and the cluster name from EKS_CLUSTER_NAME when set.
package eks

import (
	"os"
	"regexp"

	"github.com/roentgen-tracing/roentgen/xray/internal/plugins"
)

// Origin is the segment origin of EKS containers.
const Origin = "AWS::EKS::Container"

var containerID = regexp.MustCompile(`[0-9a-f]{64}`)

// Init records the pod. It reads no network.
func Init() {
	md := map[string]string{}
	if h, err := os.Hostname(); err == nil {
		md["pod"] = h
	}
	if b, err := os.ReadFile("/proc/self/cgroup"); err == nil {
		if ids := containerID.FindAll(b, -1); len(ids) > 0 {
			md["container_id"] = string(ids[len(ids)-1])
		}
	}
	if c := os.Getenv("EKS_CLUSTER_NAME"); c != "" {
		md["cluster_name"] = c
	}
	plugins.Add(Origin, "eks", md)
}
