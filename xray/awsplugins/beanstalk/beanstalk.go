// Package beanstalk records the Elastic Beanstalk environment the program
// runs in (origin AWS::ElasticBeanstalk::Environment and
// aws.elastic_beanstalk), from the file the platform writes.
package beanstalk

import (
	"encoding/json"
	"os"

	"github.com/roentgen-tracing/roentgen/xray/internal/plugins"
)

// Origin is the segment origin of Beanstalk environments.
const Origin = "AWS::ElasticBeanstalk::Environment"

// ConfigPath is where Beanstalk describes the environment.
var ConfigPath = "/var/elasticbeanstalk/xray/environment.conf"

// Init records the environment when the file exists.
func Init() {
	b, err := os.ReadFile(ConfigPath)
	if err != nil {
		return
	}
	var md struct {
		Environment  string          `json:"environment_name"`
		VersionLabel string          `json:"version_label"`
		DeploymentID json.RawMessage `json:"deployment_id"`
	}
	if json.Unmarshal(b, &md) != nil {
		return
	}
	v := map[string]any{"environment_name": md.Environment, "version_label": md.VersionLabel}
	if len(md.DeploymentID) > 0 {
		v["deployment_id"] = md.DeploymentID
	}
	plugins.Add(Origin, "elastic_beanstalk", v)
}
