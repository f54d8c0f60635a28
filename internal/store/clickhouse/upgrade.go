package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Upgrading a database is one process's job. Each migration statement is
// idempotent, but two processes running migration 4's CREATE, RENAMEs,
// copy and DROP at once can interleave so that one renames away the table
// the other has just made live and drops it after copying, losing the
// writes that landed in it meanwhile; two concurrent schema changes on
// 18.16 can even deadlock each other for good; and an old database's
// TinyLog schema_version refuses INSERTs made at once. So a process that
// finds the schema behind claims the upgrade in schema_upgrades, as a
// trace lease is claimed (lease.go): it writes a claim row (its id, an
// expiry on the server's clock), reads every unexpired claim back, and runs the migrations only
// if it sees no other process's. Of two claiming at once, the one whose
// read started later sees the other's claim, so both cannot hold it (both
// may back off, and claim again after a random wait). The others wait
// until the schema version is the newest, or until the holder's claim
// expires (it died), and then claim it themselves: the migrations resume
// where it stopped (migration 4 finishes a copy left in <table>_coarse).
// The holder renews its claim while it runs, since copying a large
// database's tables takes minutes.

const createUpgrades = `CREATE TABLE IF NOT EXISTS schema_upgrades (owner String, ver UInt64, until Int64)
	ENGINE = MergeTree ORDER BY (owner, ver)`

// upgradeTiming are the upgrade claim's timings (tests shorten them).
var upgradeTiming = struct {
	ttl, renew, poll time.Duration
	// readTries bounds the reads of the schema version the server fails
	// (schemaVersion).
	readTries int
	// now is the process's clock (tests skew it).
	now func() time.Time
}{ttl: time.Minute, renew: 15 * time.Second, poll: 250 * time.Millisecond, readTries: 20, now: time.Now}

// upgradeHooks, if set, are called by a process that holds the upgrade
// before it runs the migrations, and by one that starts to wait for
// another's (tests).
var upgradeHooks struct{ upgrading, waiting func() }

// schemaVersion reads the database's schema version. An old database's
// TinyLog schema_version fails a read made while the upgrading process
// writes to it ("File not found: …/tmp_sizes.json" on 18.16), so a read
// the server fails is tried again, a few times.
func (s *Store) schemaVersion(ctx context.Context) (int, error) {
	for tries := 1; ; tries++ {
		r, err := s.c.selectRows(ctx, `SELECT toUInt64(max(version)) FROM schema_version`)
		if err == nil {
			v := r.u64()
			return int(v), r.err
		}
		var se *serverError
		if !errors.As(err, &se) || tries >= upgradeTiming.readTries {
			return 0, err
		}
		select {
		case <-ctx.Done():
			return 0, err
		case <-time.After(upgradeTiming.poll / 5):
		}
	}
}

// claimUpgrade writes owner's claim on the upgrade and reports whether no
// other process holds an unexpired one; a refused claim is withdrawn.
// Expiry is on the server's clock, written and compared in the SQL: on
// each process's own, two whose clocks were a TTL apart could both hold
// the upgrade (one reading the other's live claim as expired).
func (s *Store) claimUpgrade(ctx context.Context, owner string) (bool, error) {
	if err := s.writeUpgradeClaim(ctx, owner, true); err != nil {
		return false, err
	}
	r, err := s.c.selectRows(ctx, `SELECT toUInt64(count()) FROM (
		SELECT owner, argMax(until, ver) AS u FROM schema_upgrades GROUP BY owner)
		WHERE u > `+serverNow+` AND owner != `+quote(owner))
	if err != nil {
		return false, err
	}
	others := r.u64()
	if r.err != nil {
		return false, r.err
	}
	if others > 0 {
		return false, s.writeUpgradeClaim(ctx, owner, false)
	}
	return true, nil
}

// serverNow is the server's clock in SQL, in the unit of a claim's until
// (ns; whole seconds are plenty against a TTL of a minute).
const serverNow = `toInt64(toUInt64(now())) * 1000000000`

// writeUpgradeClaim writes owner's claim, held for the TTL from the
// server's now, or released (until 0). Its ver orders only owner's own
// rows, so the process's clock does for it.
func (s *Store) writeUpgradeClaim(ctx context.Context, owner string, hold bool) error {
	until := "toInt64(0)"
	if hold {
		until = fmt.Sprintf("%s + %d", serverNow, upgradeTiming.ttl.Nanoseconds())
	}
	return s.c.exec(ctx, fmt.Sprintf(`INSERT INTO schema_upgrades (owner, ver, until) SELECT %s, toUInt64(%d), %s`,
		quote(owner), upgradeTiming.now().UnixNano(), until))
}

// upgrade brings the schema to the newest version, as the one process
// holding the upgrade or by waiting for the one that does. run runs the
// migrations from the version it is given.
func (s *Store) upgrade(ctx context.Context, run func(ctx context.Context, have int) error) error {
	if err := s.c.exec(ctx, createUpgrades); err != nil {
		return err
	}
	owner := newOwner()
	waited := false
	for {
		have, err := s.schemaVersion(ctx)
		if err != nil {
			return err
		}
		if have > len(migrations) {
			return fmt.Errorf("clickhouse: database %s was upgraded to schema version %d, newer than this Roentgen's %d", s.c.database, have, len(migrations))
		}
		if have == len(migrations) {
			return nil
		}
		held, err := s.claimUpgrade(ctx, owner)
		if err != nil {
			return fmt.Errorf("clickhouse: claiming the schema upgrade: %w", err)
		}
		if held {
			// Read again: another process may have finished between
			// the read above and the claim.
			return s.runHeld(ctx, owner, func() error {
				have, err := s.schemaVersion(ctx)
				if err != nil {
					return err
				}
				// The hook only where migrations run: a process that claims
				// after another finished reads the new version and runs none.
				if have < len(migrations) && upgradeHooks.upgrading != nil {
					upgradeHooks.upgrading()
				}
				return run(ctx, have)
			})
		}
		if !waited && upgradeHooks.waiting != nil {
			upgradeHooks.waiting()
		}
		waited = true
		// A random wait, so that processes that backed off together do
		// not claim together again.
		wait := upgradeTiming.poll/2 + rand.N(upgradeTiming.poll)
		select {
		case <-ctx.Done():
			return fmt.Errorf("clickhouse: waiting for another process's schema upgrade: %w", ctx.Err())
		case <-time.After(wait):
		}
	}
}

// runHeld runs fn holding owner's claim, renewed until fn returns, and
// releases it after.
func (s *Store) runHeld(ctx context.Context, owner string, fn func() error) error {
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(upgradeTiming.renew)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				// A failed renewal is retried at the next tick; the claim
				// lapses only if none succeeds for its whole TTL.
				_ = s.writeUpgradeClaim(ctx, owner, true)
			}
		}
	}()
	err := fn()
	close(stop)
	<-stopped
	// An unreleased claim (the release failed) only makes a process that
	// finds the schema behind wait out its TTL.
	_ = s.writeUpgradeClaim(ctx, owner, false)
	return err
}
