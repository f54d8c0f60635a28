package xray_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/roentgen-tracing/roentgen/xray"
	"github.com/roentgen-tracing/roentgen/xray/awsplugins/ec2"
	"github.com/roentgen-tracing/roentgen/xray/awsplugins/ecs"
	"github.com/roentgen-tracing/roentgen/xray/internal/plugins"
)

// The EC2 plugin reads the identity document through IMDSv2 (token first)
// and every segment then carries origin and aws.ec2.
func TestEC2PluginWithIMDSv2(t *testing.T) {
	imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPut && r.URL.Path == "/latest/api/token":
			w.Write([]byte("tok"))
		case r.URL.Path == "/latest/dynamic/instance-identity/document" && r.Header.Get("X-aws-ec2-metadata-token") == "tok":
			w.Write([]byte(`{"availabilityZone":"eu-west-1a","imageId":"ami-1","instanceId":"i-0abc","instanceType":"m7g.large"}`))
		default:
			http.Error(w, "no", http.StatusUnauthorized)
		}
	}))
	defer imds.Close()
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.URL)
	defer plugins.Reset()
	if err := ec2.InitContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	d := newDaemon(t)
	_, seg := xray.BeginSegment(context.Background(), "on-ec2")
	seg.Close(nil)
	s := d.wait(1)[0]
	if s.Origin != ec2.Origin || s.AWS == nil {
		t.Fatalf("origin %q aws %+v", s.Origin, s.AWS)
	}
	raw := string(d.raw[0])
	for _, want := range []string{`"ec2":{"ami_id":"ami-1","availability_zone":"eu-west-1a","instance_id":"i-0abc","instance_size":"m7g.large"}`, `"sdk":"X-Ray for Go"`} {
		if !contains(raw, want) {
			t.Errorf("datagram lacks %s: %s", want, raw)
		}
	}
}

// Off EC2 (nothing answers) Init gives up within its bound and records nothing.
func TestEC2PluginOffEC2(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", srv.URL)
	defer plugins.Reset()
	if err := ec2.InitContext(context.Background()); err == nil {
		t.Fatal("no error without a metadata service")
	}
	if plugins.Load().Origin != "" {
		t.Error("origin recorded off EC2")
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// The ECS plugin reads the task metadata endpoint v4.
func TestECSPluginWithTaskMetadata(t *testing.T) {
	md := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v4/abc":
			w.Write([]byte(`{"DockerId":"d0c4e7","Name":"web","ContainerARN":"arn:aws:ecs:eu-west-1:1:container/c","Labels":{"com.amazonaws.ecs.task-arn":"arn:aws:ecs:eu-west-1:1:task/t","com.amazonaws.ecs.cluster":"arn:aws:ecs:eu-west-1:1:cluster/prod","com.amazonaws.ecs.task-definition-family":"shop"}}`))
		case "/v4/abc/task":
			w.Write([]byte(`{"LaunchType":"FARGATE","AvailabilityZone":"eu-west-1b"}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer md.Close()
	t.Setenv("ECS_CONTAINER_METADATA_URI_V4", md.URL+"/v4/abc")
	defer plugins.Reset()
	ecs.InitContext(context.Background())
	d := newDaemon(t)
	_, seg := xray.BeginSegment(context.Background(), "on-ecs")
	seg.Close(nil)
	s := d.wait(1)[0]
	raw := string(d.raw[0])
	if s.Origin != ecs.Origin {
		t.Errorf("origin %q", s.Origin)
	}
	for _, want := range []string{`"container_id":"d0c4e7"`, `"task_family":"shop"`, `"launch_type":"fargate"`, `"cluster_arn":"arn:aws:ecs:eu-west-1:1:cluster/prod"`, `"availability_zone":"eu-west-1b"`} {
		if !strings.Contains(raw, want) {
			t.Errorf("datagram lacks %s", want)
		}
	}
}
