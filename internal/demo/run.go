package demo

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"
)

// header is the first line of every X-Ray daemon datagram (spec §2.1).
const header = "{\"format\": \"json\", \"version\": 1}\n"

// Config shapes the workload.
type Config struct {
	// UDPAddr is where segment datagrams go (the server's --bind).
	UDPAddr string
	// Rate is requests per second after the backfill (default 5).
	Rate float64
	// Backfill is how far back requests are made at start, so the console
	// has a history at once (default 10 minutes; negative: none).
	Backfill time.Duration
	// BackfillRate is the requests per second of the backfill period
	// (default 1).
	BackfillRate float64
	// Seed makes the workload repeatable (default: the time).
	Seed   uint64
	Logger *slog.Logger
	// Now overrides the clock (tests).
	Now func() time.Time
}

// Run sends the workload until ctx ends. It returns nil when ctx ends and
// an error only when the address cannot be used.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Rate <= 0 {
		cfg.Rate = 5
	}
	if cfg.Backfill == 0 {
		cfg.Backfill = 10 * time.Minute
	}
	if cfg.BackfillRate <= 0 {
		cfg.BackfillRate = 1
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Seed == 0 {
		cfg.Seed = uint64(time.Now().UnixNano())
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	conn, err := net.Dial("udp", cfg.UDPAddr)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer conn.Close()
	g := NewGenerator(cfg.Seed)
	send := func(at time.Time) int {
		n := 0
		for _, doc := range g.Trace(at) {
			if _, err := conn.Write(append([]byte(header), doc...)); err == nil {
				n++
			}
		}
		return n
	}

	sent := 0
	if cfg.Backfill > 0 {
		now := cfg.Now()
		step := time.Duration(float64(time.Second) / cfg.BackfillRate)
		for at := now.Add(-cfg.Backfill); at.Before(now); at = at.Add(step) {
			sent += send(at)
			// Loopback UDP drops what the receiver cannot keep up with:
			// pace the burst.
			if sent%32 == 0 {
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(2 * time.Millisecond):
				}
			}
		}
		cfg.Logger.Info("demo: backfilled history", "since", cfg.Backfill.String(), "documents", sent)
	}
	tick := time.NewTicker(time.Duration(float64(time.Second) / cfg.Rate))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			send(cfg.Now())
		}
	}
}

// Start runs the workload in the background for `roentgen demo` and
// returns the function that stops it.
func Start(udpAddr, consoleURL string, log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := Run(ctx, Config{UDPAddr: udpAddr, Logger: log}); err != nil {
			log.Error("demo workload", "err", err)
		}
	}()
	log.Info("demo workload running: a web shop of 5 services, DynamoDB, S3, SQS, SNS, PostgreSQL and a payment API", "console", consoleURL)
	return func() { cancel(); <-done }
}
