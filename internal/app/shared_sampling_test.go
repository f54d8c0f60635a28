package app_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
	"github.com/roentgen-tracing/roentgen/internal/app"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse/clickhousetest"
	"github.com/roentgen-tracing/roentgen/internal/xraytest"
)

// testClock is a clock the test moves; every server of a test reads it, so
// quotas and their expiry do not depend on how fast the machine runs.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func createRule(t *testing.T, s *xraytest.Server, name string, reservoir int32) {
	t.Helper()
	if _, err := s.Client(t).CreateSamplingRule(context.Background(), &xray.CreateSamplingRuleInput{SamplingRule: &types.SamplingRule{
		RuleName: aws.String(name), ResourceARN: aws.String("*"), Priority: aws.Int32(10), FixedRate: 0.1,
		ReservoirSize: reservoir, ServiceName: aws.String(name), ServiceType: aws.String("*"), Host: aws.String("*"),
		HTTPMethod: aws.String("*"), URLPath: aws.String("*"), Version: aws.Int32(1)}}); err != nil {
		t.Fatal(err)
	}
}

// report is one client's GetSamplingTargets call for one rule: its quota
// and the quota's expiry.
func report(t *testing.T, s *xraytest.Server, rule, clientID string, requests int32, at time.Time) (int32, time.Time) {
	t.Helper()
	out, err := s.Client(t).GetSamplingTargets(context.Background(), &xray.GetSamplingTargetsInput{
		SamplingStatisticsDocuments: []types.SamplingStatisticsDocument{{ClientID: aws.String(clientID), RuleName: aws.String(rule),
			RequestCount: requests, SampledCount: min(requests, 1), Timestamp: aws.Time(at)}}})
	if err != nil {
		t.Error(err)
		return 0, time.Time{}
	}
	if len(out.SamplingTargetDocuments) != 1 || len(out.UnprocessedStatistics) != 0 {
		t.Errorf("GetSamplingTargets = %+v", out)
		return 0, time.Time{}
	}
	d := out.SamplingTargetDocuments[0]
	return aws.ToInt32(d.ReservoirQuota), aws.ToTime(d.ReservoirQuotaTTL)
}

// TestTwoServersHandOutTargetsAsOneEmbedded sends the same sequence of
// sampling reports, from three SDK clients, to two servers on one
// ClickHouse database (each report to one of them) and to one embedded
// Roentgen, and compares every quota and the statistics summaries.
func TestTwoServersHandOutTargetsAsOneEmbedded(t *testing.T) {
	db := clickhousetest.NewDatabase(t)
	clock := &testClock{t: time.Now().Truncate(time.Minute)}
	withClock := func(c *app.Config) { c.Now = clock.now }
	onCH := func(c *app.Config) {
		c.Role, c.Store, c.UDPAddr, c.TCPAddr, c.Now = app.RoleServer, db, "", "", clock.now
	}
	a, b := xraytest.Start(t, onCH), xraytest.Start(t, onCH)
	e := xraytest.Start(t, withClock)
	createRule(t, a, "shop", 9)
	createRule(t, e, "shop", 9)

	clients := []string{"aaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbb", "cccccccccccccccccccccccc"}
	var fleet, embedded []string
	for round := range 6 {
		for i, id := range clients {
			if round == 4 && i == 2 {
				continue // goes quiet: its share returns to the others once its quota expires
			}
			requests := int32(10 * (i + 1) * (round%3 + 1))
			to := []*xraytest.Server{a, b}[(round+i)%2]
			q, ttl := report(t, to, "shop", id, requests, clock.now())
			fleet = append(fleet, fmt.Sprintf("round %d client %d: %d until %s", round, i, q, ttl.Sub(clock.now())))
			q, ttl = report(t, e, "shop", id, requests, clock.now())
			embedded = append(embedded, fmt.Sprintf("round %d client %d: %d until %s", round, i, q, ttl.Sub(clock.now())))
		}
		clock.add(7 * time.Second)
	}
	for i := range embedded {
		if fleet[i] != embedded[i] {
			t.Errorf("two servers: %s; embedded: %s", fleet[i], embedded[i])
		}
	}
	summaries := func(s *xraytest.Server) string {
		out, err := s.Client(t).GetSamplingStatisticSummaries(context.Background(), &xray.GetSamplingStatisticSummariesInput{})
		if err != nil {
			t.Fatal(err)
		}
		return js(out.SamplingStatisticSummaries)
	}
	want := summaries(e)
	for name, s := range map[string]*xraytest.Server{"A": a, "B": b} {
		if got := summaries(s); got != want {
			t.Errorf("GetSamplingStatisticSummaries from %s = %s, embedded %s", name, got, want)
		}
	}
}

// TestTwoServersSplitReservoirsFleetWide has eight SDK clients report at
// once, round after round, half to each of two servers on one ClickHouse
// database, with request rates that shift every round, and checks that the
// quotas in force for a rule never sum past its reservoir, and that the
// fleet then hands out the whole reservoir (not one per process).
func TestTwoServersSplitReservoirsFleetWide(t *testing.T) {
	db := clickhousetest.NewDatabase(t)
	clock := &testClock{t: time.Now().Truncate(time.Minute)}
	onCH := func(c *app.Config) {
		c.Role, c.Store, c.UDPAddr, c.TCPAddr, c.Now = app.RoleServer, db, "", "", clock.now
	}
	servers := []*xraytest.Server{xraytest.Start(t, onCH), xraytest.Start(t, onCH)}
	const reservoir = 10
	createRule(t, servers[0], "shop", reservoir)
	type grant struct {
		quota int32
		ttl   time.Time
	}
	held := map[string]grant{}
	var mu sync.Mutex
	for round := range 8 {
		var wg sync.WaitGroup
		for i := range 8 {
			id := fmt.Sprintf("%024d", i)
			requests := int32(1 + (i*7+round*3)%11*10)
			wg.Add(1)
			go func() {
				defer wg.Done()
				q, ttl := report(t, servers[(i+round)%2], "shop", id, requests, clock.now())
				mu.Lock()
				held[id] = grant{q, ttl}
				mu.Unlock()
			}()
		}
		wg.Wait()
		now, sum := clock.now(), 0
		for _, g := range held {
			if now.Before(g.ttl) {
				sum += int(g.quota)
			}
		}
		if sum > reservoir {
			t.Errorf("round %d: the quotas in force sum to %d, past the reservoir of %d: %v", round, sum, reservoir, held)
		}
		clock.add(3 * time.Second)
	}
	// Once every client has gone quiet, a client of one server is handed
	// the whole reservoir, and a client of the other then nothing.
	clock.add(time.Minute)
	q0, _ := report(t, servers[0], "shop", fmt.Sprintf("%024d", 100), 50, clock.now())
	q1, _ := report(t, servers[1], "shop", fmt.Sprintf("%024d", 101), 50, clock.now())
	if q0 != reservoir || q1 != 0 {
		t.Errorf("quiet fleet: the first client's quota %d (want %d), the second's %d (want 0)", q0, reservoir, q1)
	}
}
