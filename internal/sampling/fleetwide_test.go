package sampling

import (
	"context"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse/clickhousetest"
)

// TestSharedFleetRacingRounds runs one process's round of reports inside
// another's, at each point where they can interleave (after reading the
// fleet's state, after writing the claims), on one ClickHouse database: the
// two clients' quotas never sum past the reservoir, and the reservoir is
// handed out.
func TestSharedFleetRacingRounds(t *testing.T) {
	for _, at := range []string{"loaded", "claimed"} {
		t.Run(at, func(t *testing.T) {
			db := clickhousetest.NewDatabase(t)
			ctx := context.Background()
			now := time.Now().Truncate(time.Second)
			open := func() *Service {
				st, err := clickhouse.Open(ctx, db)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { st.Close() })
				s, err := New(ctx, Config{Store: st, Now: func() time.Time { return now }})
				if err != nil {
					t.Fatal(err)
				}
				if s.shared == nil {
					t.Fatal("a service on ClickHouse does not split quotas fleet-wide")
				}
				return s
			}
			a, b := open(), open()
			const reservoir = 10
			size := func(s *Service) { // the Default rule's reservoir
				r := s.rules[DefaultRuleName]
				r.Rule.ReservoirSize = reservoir
				s.rules[DefaultRuleName] = r
			}
			size(a)
			size(b)
			round := func(s *Service, client string) int64 {
				res, err := s.Targets(ctx, []Statistics{{RuleName: DefaultRuleName, ClientID: client, Timestamp: now, RequestCount: 50}}, nil)
				if err != nil || len(res.Targets) != 1 {
					t.Fatalf("Targets = %+v, %v", res, err)
				}
				return res.Targets[0].ReservoirQuota
			}
			var qb int64
			ran := false
			a.shared.step = func(name string) {
				if name == at && !ran {
					ran = true
					qb = round(b, "bbbbbbbbbbbbbbbbbbbbbbbb")
				}
			}
			qa := round(a, "aaaaaaaaaaaaaaaaaaaaaaaa")
			if !ran {
				t.Fatalf("step %q never ran", at)
			}
			if qa+qb > reservoir || qa+qb == 0 {
				t.Errorf("quotas %d + %d, want at most the reservoir of %d and some of it", qa, qb, reservoir)
			}
			// The next round, in turn, splits the reservoir between both.
			now = now.Add(time.Second)
			a.shared.step = nil
			qa, qb = round(a, "aaaaaaaaaaaaaaaaaaaaaaaa"), round(b, "bbbbbbbbbbbbbbbbbbbbbbbb")
			if qa+qb > reservoir {
				t.Errorf("next round: quotas %d + %d, past the reservoir of %d", qa, qb, reservoir)
			}
		})
	}
}
