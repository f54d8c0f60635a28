// Package ecs records the ECS container the program runs in (origin
// AWS::ECS::Container and aws.ecs) in every segment: the container's host
// name, and from the task metadata endpoint v4 (when ECS provides it) the
// container and task ARNs, family, cluster, zone and launch type.
package ecs

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/roentgen-tracing/roentgen/xray/internal/plugins"
)

// Origin is the segment origin of ECS containers.
const Origin = "AWS::ECS::Container"

// Timeout bounds Init's calls to the metadata endpoint.
const Timeout = time.Second

// Init records the container; it reads ECS_CONTAINER_METADATA_URI_V4 when
// set, at most Timeout.
func Init() {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	InitContext(ctx)
}

// InitContext is Init bounded by ctx.
func InitContext(ctx context.Context) {
	md := map[string]string{}
	if h, err := os.Hostname(); err == nil {
		md["container"] = h
	}
	if uri := os.Getenv("ECS_CONTAINER_METADATA_URI_V4"); uri != "" {
		var c struct {
			DockerID     string `json:"DockerId"`
			ContainerARN string
			Labels       map[string]string
		}
		if get(ctx, uri, &c) == nil {
			set(md, "container_id", c.DockerID)
			set(md, "container_arn", c.ContainerARN)
			set(md, "task_arn", c.Labels["com.amazonaws.ecs.task-arn"])
			set(md, "task_family", c.Labels["com.amazonaws.ecs.task-definition-family"])
			set(md, "cluster_arn", c.Labels["com.amazonaws.ecs.cluster"])
		}
		var task struct{ LaunchType, AvailabilityZone string }
		if get(ctx, strings.TrimRight(uri, "/")+"/task", &task) == nil {
			set(md, "launch_type", strings.ToLower(task.LaunchType))
			set(md, "availability_zone", task.AvailabilityZone)
		}
	}
	plugins.Add(Origin, "ecs", md)
}

func set(m map[string]string, k, v string) {
	if v != "" {
		m[k] = v
	}
}

func get(ctx context.Context, url string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Timeout: Timeout}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return io.ErrUnexpectedEOF
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(out)
}
