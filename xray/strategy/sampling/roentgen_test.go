package sampling_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsxray "github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"

	"github.com/roentgen-tracing/roentgen/internal/xraytest"
	"github.com/roentgen-tracing/roentgen/xray/daemoncfg"
	"github.com/roentgen-tracing/roentgen/xray/strategy/sampling"
)

// Against a real Roentgen's daemon TCP side: the rules made with the X-Ray
// API reach the SDK, requests match them, and the statistics report gets
// quotas back.
func TestCentralizedAgainstRoentgen(t *testing.T) {
	s := xraytest.Start(t)
	api := s.Client(t)
	_, err := api.CreateSamplingRule(context.Background(), &awsxray.CreateSamplingRuleInput{SamplingRule: &types.SamplingRule{
		RuleName: aws.String("checkout"), Priority: aws.Int32(10), FixedRate: 0, ReservoirSize: 100,
		ServiceName: aws.String("shop"), ServiceType: aws.String("*"), Host: aws.String("*"), HTTPMethod: aws.String("POST"),
		URLPath: aws.String("/checkout*"), ResourceARN: aws.String("*"), Version: aws.Int32(1),
	}})
	if err != nil {
		t.Fatal(err)
	}
	st, _ := sampling.NewCentralizedStrategy()
	st.Close() // the test drives the refreshes
	ep, err := daemoncfg.Parse("tcp:" + s.Addr("tcp").String() + " udp:" + s.Addr("udp").String())
	if err != nil {
		t.Fatal(err)
	}
	st.LoadDaemonEndpoints(ep)
	if err := st.RefreshRules(context.Background()); err != nil {
		t.Fatal(err)
	}
	req := sampling.Request{Host: "shop.example", Method: "POST", URL: "/checkout/42", ServiceName: "shop"}
	d := st.Decide(req)
	if d.Rule == nil || *d.Rule != "checkout" || !d.Sample {
		t.Fatalf("decision = %+v", d)
	}
	if d := st.Decide(sampling.Request{Method: "GET", URL: "/", ServiceName: "shop"}); d.Rule == nil || *d.Rule != "Default" {
		t.Errorf("other request matched %v", d.Rule)
	}
	if err := st.RefreshTargets(context.Background()); err != nil {
		t.Fatal(err)
	}
	// With a quota of its own the rule samples on the reservoir.
	sampled := 0
	for i := 0; i < 10; i++ {
		if st.Decide(req).Sample {
			sampled++
		}
	}
	if sampled != 10 {
		t.Errorf("%d of 10 sampled within a reservoir of 100", sampled)
	}
}
