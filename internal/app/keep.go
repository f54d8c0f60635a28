package app

import (
	"context"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/store"
)

// keepRefreshEvery is how often a process on a shared store reads the keep
// policies another process may have put: until then the two may decide a
// trace apart.
const keepRefreshEvery = 5 * time.Second

// keepRefreshLoop refreshes the keep policies from a shared store.
func (a *App) keepRefreshLoop() {
	if !store.IsShared(a.store) {
		return
	}
	t := time.NewTicker(keepRefreshEvery)
	defer t.Stop()
	for {
		select {
		case <-a.done:
			return
		case <-t.C:
			if err := a.RefreshKeepPolicies(context.Background()); err != nil {
				a.log.Error("refresh keep policies", "err", err)
			}
		}
	}
}

// RefreshKeepPolicies puts into force the keep policies stored by any
// process (done every few seconds on a shared store).
func (a *App) RefreshKeepPolicies(ctx context.Context) error {
	return a.svc.Keep.Refresh(ctx)
}
