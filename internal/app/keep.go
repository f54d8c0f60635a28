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

// startKeepRefresh refreshes the keep policies from a shared store.
func (a *App) startKeepRefresh() {
	if !store.IsShared(a.store) {
		return
	}
	a.every(keepRefreshEvery, func() {
		if err := a.RefreshKeepPolicies(context.Background()); err != nil {
			a.log.Error("refresh keep policies", "err", err)
		}
	})
}

// RefreshKeepPolicies puts into force the keep policies stored by any
// process (done every few seconds on a shared store).
func (a *App) RefreshKeepPolicies(ctx context.Context) error {
	return a.svc.Keep.Refresh(ctx)
}
