package sampling_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// Adaptive sampling: a rule with SamplingRateBoost that hears of anomalies
// answers with SamplingBoost at its MaxRate, once per cooldown window; a
// boost report for a rule without a boost is unprocessed.
func TestSamplingBoost(t *testing.T) {
	h := handler(t)
	if w := serve(h, "/CreateSamplingRule", `{"SamplingRule":{"RuleName":"pay","ResourceARN":"*","Priority":1,"FixedRate":0.05,"ReservoirSize":1,"ServiceName":"pay","ServiceType":"*","Host":"*","HTTPMethod":"*","URLPath":"*","Version":1,"SamplingRateBoost":{"MaxRate":0.5,"CooldownWindowMinutes":10}}}`); w.Code != 200 ||
		!strings.Contains(w.Body.String(), `"SamplingRateBoost":{"MaxRate":0.5,"CooldownWindowMinutes":10}`) {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	now := time.Now().Unix()
	stats := fmt.Sprintf(`"SamplingStatisticsDocuments":[{"RuleName":"pay","ClientID":"0123456789abcdef01234567","Timestamp":%d,"RequestCount":10,"SampledCount":1}]`, now)
	boost := func(rule string, anomalies int) string {
		return fmt.Sprintf(`"SamplingBoostStatisticsDocuments":[{"RuleName":%q,"ServiceName":"pay","Timestamp":%d,"AnomalyCount":%d,"TotalCount":10,"SampledAnomalyCount":0}]`, rule, now, anomalies)
	}

	w := serve(h, "/SamplingTargets", "{"+stats+"}")
	if strings.Contains(w.Body.String(), "SamplingBoost") {
		t.Errorf("no anomalies yet, but: %s", w.Body)
	}
	w = serve(h, "/SamplingTargets", "{"+stats+","+boost("pay", 0)+"}")
	if strings.Contains(w.Body.String(), `"SamplingBoost"`) || !strings.Contains(w.Body.String(), `"UnprocessedBoostStatistics":[]`) {
		t.Errorf("zero anomalies: %s", w.Body)
	}
	w = serve(h, "/SamplingTargets", "{"+stats+","+boost("pay", 3)+"}")
	if !strings.Contains(w.Body.String(), `"SamplingBoost":{"BoostRate":0.5,"BoostRateTTL":`) {
		t.Errorf("anomalies: %s", w.Body)
	}
	w = serve(h, "/SamplingTargets", "{"+stats+","+boost("Default", 3)+"}")
	if !strings.Contains(w.Body.String(), `"UnprocessedBoostStatistics":[{"RuleName":"Default","ErrorCode":"400"`) {
		t.Errorf("boost report for a rule without boost: %s", w.Body)
	}
	// Default takes no boost, and only its rate and reservoir change; an
	// update repeating its other values is accepted.
	w = serve(h, "/UpdateSamplingRule", `{"SamplingRuleUpdate":{"RuleName":"Default","SamplingRateBoost":{"MaxRate":0.5,"CooldownWindowMinutes":1}}}`)
	if w.Code != 400 || !strings.Contains(w.Body.String(), "SamplingRateBoost cannot be set on the Default rule") {
		t.Errorf("boost on Default: %d %s", w.Code, w.Body)
	}
	w = serve(h, "/UpdateSamplingRule", `{"SamplingRuleUpdate":{"RuleName":"Default","Priority":10000,"ServiceName":"*","Attributes":{},"FixedRate":0.2}}`)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"FixedRate":0.2`) {
		t.Errorf("Default update repeating its values: %d %s", w.Code, w.Body)
	}
	w = serve(h, "/UpdateSamplingRule", `{"SamplingRuleUpdate":{"RuleName":"pay","RuleARN":"arn:aws:xray:us-east-1:000000000000:sampling-rule/other","FixedRate":0.2}}`)
	if w.Code != 400 || !strings.Contains(w.Body.String(), "name different rules") {
		t.Errorf("name and ARN disagree: %d %s", w.Code, w.Body)
	}
}
