// Package ec2 records the EC2 instance the program runs on (origin
// AWS::EC2::Instance and aws.ec2) in every segment, read once from the
// instance metadata service (IMDSv2, then IMDSv1), time-bounded.
package ec2

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/roentgen-tracing/roentgen/xray/internal/plugins"
)

// Origin is the segment origin of EC2 instances.
const Origin = "AWS::EC2::Instance"

// Timeout bounds Init's calls to the metadata service.
const Timeout = time.Second

// Metdata is the instance identity (spelled as in aws-xray-sdk-go).
type Metdata struct {
	AvailabilityZone string
	ImageID          string
	InstanceID       string
	InstanceType     string
}

// Init reads the instance identity (at most Timeout) and, on EC2, adds it to
// every segment. Off EC2 it costs one failed connection and changes nothing.
// AWS_EC2_METADATA_DISABLED=true skips it; AWS_EC2_METADATA_SERVICE_ENDPOINT
// moves the endpoint.
func Init() {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	_ = InitContext(ctx)
}

// InitContext is Init bounded by ctx; it returns why nothing was recorded.
func InitContext(ctx context.Context) error {
	if strings.EqualFold(os.Getenv("AWS_EC2_METADATA_DISABLED"), "true") {
		return errors.New("ec2: AWS_EC2_METADATA_DISABLED is set")
	}
	md, err := identity(ctx)
	if err != nil {
		return err
	}
	plugins.Add(Origin, "ec2", map[string]string{
		"instance_id": md.InstanceID, "instance_size": md.InstanceType,
		"ami_id": md.ImageID, "availability_zone": md.AvailabilityZone,
	})
	return nil
}

func endpoint() string {
	if e := os.Getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT"); e != "" {
		return strings.TrimRight(e, "/")
	}
	return "http://169.254.169.254"
}

func identity(ctx context.Context) (*Metdata, error) {
	c := &http.Client{Timeout: Timeout}
	base := endpoint()
	token := ""
	req, _ := http.NewRequestWithContext(ctx, http.MethodPut, base+"/latest/api/token", nil)
	req.Header.Set("X-aws-ec2-metadata-token-ttl-seconds", "60")
	if resp, err := c.Do(req); err == nil {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			token = string(b)
		}
	} else if ctx.Err() != nil {
		return nil, err
	}
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, base+"/latest/dynamic/instance-identity/document", nil)
	if token != "" {
		req.Header.Set("X-aws-ec2-metadata-token", token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, errors.New("ec2: instance identity: " + resp.Status)
	}
	var doc struct{ AvailabilityZone, ImageID, InstanceID, InstanceType string }
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&doc); err != nil {
		return nil, err
	}
	if doc.InstanceID == "" {
		return nil, errors.New("ec2: the identity document has no instanceId")
	}
	return &Metdata{AvailabilityZone: doc.AvailabilityZone, ImageID: doc.ImageID, InstanceID: doc.InstanceID, InstanceType: doc.InstanceType}, nil
}
