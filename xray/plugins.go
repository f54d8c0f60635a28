package xray

import "github.com/roentgen-tracing/roentgen/xray/internal/plugins"

func pluginOrigin() string { return plugins.Load().Origin }

func pluginAWS() []plugins.Entry { return plugins.Load().AWS }
