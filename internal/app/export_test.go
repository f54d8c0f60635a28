package app

// Activity is what the idle checks count (idle.go).
func (a *App) Activity() uint64 { return a.activity() }
