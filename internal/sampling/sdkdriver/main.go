// Command sdkdriver is a test program: one "process" of a fleet using the
// official X-Ray Go SDK with its default centralized sampling strategy. It
// begins -rate segments per second named -service for -duration, and
// prints one JSON line per second with how each decision went, by the rule
// that made it ("" = the SDK's local fallback).
//
// The daemon address comes from AWS_XRAY_DAEMON_ADDRESS, as in production.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"time"

	"github.com/aws/aws-xray-sdk-go/xray"
	"github.com/aws/aws-xray-sdk-go/xraylog"
)

// second is one line of output.
type second struct {
	Sec       int            `json:"sec"`
	Requests  int            `json:"requests"`
	Sampled   map[string]int `json:"sampled"`
	Unsampled map[string]int `json:"unsampled"`
}

func main() {
	service := flag.String("service", "driver", "segment name (the rules' ServiceName)")
	rate := flag.Int("rate", 100, "segments per second")
	duration := flag.Duration("duration", 10*time.Second, "how long to run")
	flag.Parse()

	xray.SetLogger(xraylog.NewDefaultLogger(os.Stderr, xraylog.LogLevelInfo))
	if err := xray.Configure(xray.Config{ServiceVersion: "sdkdriver"}); err != nil {
		panic(err)
	}
	out := json.NewEncoder(os.Stdout)
	tick := time.NewTicker(time.Second / time.Duration(*rate))
	defer tick.Stop()
	start := time.Now()
	cur := second{Sampled: map[string]int{}, Unsampled: map[string]int{}}
	for now := range tick.C {
		if s := int(now.Sub(start) / time.Second); s != cur.Sec {
			_ = out.Encode(cur)
			cur = second{Sec: s, Sampled: map[string]int{}, Unsampled: map[string]int{}}
		}
		if now.Sub(start) >= *duration {
			return
		}
		_, seg := xray.BeginSegment(context.Background(), *service)
		rule := ""
		if sdk, ok := seg.GetAWS()["xray"].(xray.SDK); ok {
			rule = sdk.RuleName
		}
		cur.Requests++
		if seg.Sampled {
			cur.Sampled[rule]++
		} else {
			cur.Unsampled[rule]++
		}
		seg.Close(nil)
	}
}
