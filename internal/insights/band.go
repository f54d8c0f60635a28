package insights

import "math"

// The expected band of a rate (faults, errors or throttles per request).
//
// A service's normal rate is learnt from the statistics of the hour before
// the minute under test, read as twelve five-minute windows. The baseline
// p0 is their pooled rate once outlying windows are set aside: one at a
// time, the window least likely under the pooled rate of the others
// (binomial tail below OutlierAlpha) is dropped, up to half of them. So an
// incident in the history does not raise the baseline — a service that has
// been failing for twenty minutes is still compared with how it was before
// (a mean, or an EWMA, would absorb the incident and close its own insight)
// — while a rare kind of failure, absent from most windows, keeps its true
// small rate (a median of window rates would say zero). The top of the
// band is the largest of
//
//   - the Wilson score upper bound (z = BandZ) of p0 over the kept
//     windows' requests: with little history the band is wide, so a
//     service that has served forty requests is not anomalous on one fault;
//   - p0 plus BandZ times the windows' dispersion beyond binomial noise
//     (from their chi-square over p0): services whose rate wanders by
//     nature get a wider band;
//   - p0 plus MinDelta: a rise of less than a percentage point is not worth
//     waking anyone for, however significant.
//
// A minute is anomalous when its rate is above the band and the rise is
// significant for the minute's own traffic: the exact binomial tail
// P(X ≥ x | n, top of band) is below Alpha. The exact tail, not a normal
// approximation, because minutes of low-traffic services hold a handful of
// requests: 1 fault in 2 requests is never significant, 10 in 10 is.
const (
	HistoryWindows = 12  // five-minute windows of history
	WindowSeconds  = 300 // their width
	BandZ          = 2.0
	MinDelta       = 0.01
	Alpha          = 1e-4
	// OutlierAlpha: a history window this unlikely under the others is
	// left out of the baseline.
	OutlierAlpha = 1e-3
	// NormalAlpha: a minute is back to normal when its rate is within the
	// band or this likely under it. Between the two levels a minute
	// neither opens nor closes an insight: the hysteresis that keeps an
	// insight from flapping.
	NormalAlpha = 0.01
	// PoolMinutes: a service too quiet for one minute's rate to be
	// significant is tested on its last PoolMinutes minutes together
	// (while the latest of them is above the band too).
	PoolMinutes = 3
	// MinHistory is how many requests the history must hold for a band:
	// below it a service's normal is unknown and nothing is anomalous.
	MinHistory = 30
)

// window is one stretch of history: requests and how many were bad.
type window struct{ n, x float64 }

// Band is the expected range of a rate: P0 is the baseline, High the
// highest rate still normal.
type Band struct {
	P0   float64 `json:"p0"`
	High float64 `json:"hi"`
}

// bandOf learns the band from history windows; ok is false when the
// history is too thin to know what is normal.
func bandOf(ws []window) (Band, bool) {
	keep := make([]window, 0, len(ws))
	var n, x float64
	for _, w := range ws {
		if w.n > 0 {
			keep = append(keep, w)
			n += w.n
			x += w.x
		}
	}
	if n < MinHistory {
		return Band{}, false
	}
	// Set outliers aside, the least likely first, up to half the windows.
	for dropped := 0; 2*(dropped+1) <= len(keep)+dropped && len(keep) > 1; dropped++ {
		worst, worstP := -1, OutlierAlpha
		for i, w := range keep {
			p := (x - w.x + 0.5) / (n - w.n + 1)
			if w.x/w.n <= p {
				continue
			}
			if t := binomialTail(int64(w.x), int64(w.n), p); t < worstP {
				worst, worstP = i, t
			}
		}
		if worst < 0 {
			break
		}
		n -= keep[worst].n
		x -= keep[worst].x
		keep = append(keep[:worst], keep[worst+1:]...)
	}
	p0 := x / n
	// Dispersion beyond binomial noise: the chi-square of the kept
	// windows over p0, per degree of freedom, above 1.
	var extra float64
	if k := len(keep); k > 1 && p0 > 0 && p0 < 1 {
		var chi float64
		for _, w := range keep {
			d := w.x - p0*w.n
			chi += d * d / (w.n * p0 * (1 - p0))
		}
		if phi := chi / float64(k-1); phi > 1 {
			extra = math.Sqrt((phi - 1) * p0 * (1 - p0) / (n / float64(k)))
		}
	}
	_, hi := wilson(x, n, BandZ)
	high := math.Max(hi, math.Max(p0+BandZ*extra, p0+MinDelta))
	return Band{P0: p0, High: math.Min(high, 1)}, true
}

// anomalous reports whether x bad requests of n lie significantly above
// the band.
func (b Band) anomalous(x, n float64) bool {
	if n <= 0 || x/n <= b.High || b.High >= 1 {
		return false
	}
	return binomialTail(int64(x), int64(n), b.High) < Alpha
}

// normal reports whether x of n is back within the band: at or below its
// top, or above it by no more than chance explains (tail ≥ NormalAlpha),
// as one fault in a quiet minute can be. An idle minute is normal:
// nothing is failing.
func (b Band) normal(x, n float64) bool {
	return n <= 0 || x/n <= b.High || binomialTail(int64(x), int64(n), b.High) >= NormalAlpha
}

// wilson is the Wilson score interval of x successes in n trials.
func wilson(x, n, z float64) (lo, hi float64) {
	if n <= 0 {
		return 0, 1
	}
	p := x / n
	z2 := z * z
	d := 1 + z2/n
	c := p + z2/(2*n)
	r := z * math.Sqrt(p*(1-p)/n+z2/(4*n*n))
	return math.Max(0, (c-r)/d), math.Min(1, (c+r)/d)
}

// binomialTail is P(X ≥ x) for X ~ Binomial(n, p), summed in log space
// from x upwards; callers ask only above the mean, where the terms fall
// off fast.
func binomialTail(x, n int64, p float64) float64 {
	switch {
	case x <= 0:
		return 1
	case x > n:
		return 0
	case p <= 0:
		return 0
	case p >= 1:
		return 1
	}
	lp, lq := math.Log(p), math.Log1p(-p)
	logPMF := func(k int64) float64 {
		a, _ := math.Lgamma(float64(n + 1))
		b, _ := math.Lgamma(float64(k + 1))
		c, _ := math.Lgamma(float64(n - k + 1))
		return a - b - c + float64(k)*lp + float64(n-k)*lq
	}
	var sum float64
	for k := x; k <= n; k++ {
		t := math.Exp(logPMF(k))
		sum += t
		if t < sum*1e-12 || (sum == 0 && k > x+1000) {
			break
		}
	}
	return math.Min(1, sum)
}
