package clickhouse_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/api"
	"github.com/roentgen-tracing/roentgen/internal/app"
	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/ingest"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse/clickhousetest"
)

// The read benchmarks run on a database of ROENTGEN_CH_BENCH_TRACES traces
// (default 1e6; the target is stated for 1e7) spread over the ten
// hours before it was built, kept on the server as roentgen_bench_reads_<n>
// and reused by later runs (drop it to rebuild).
//
// Ingesting 1e7 traces through Roentgen takes hours here, so the database is
// built from a seed of benchSeed() traces ingested through Roentgen's real
// write path (ingest, summaries, index terms, the service graph's
// statistics), then multiplied inside ClickHouse (the documents, stored
// compressed, through this process: copyDocs): copy k of a seed trace is
// the same trace under another id (characters 12–15, the first four of the
// id's random part, replaced by k in hex), its rows those ingest would store
// for it: the id is rewritten in every key and inside every document and
// summary (the same length, so the encodings stay valid), and the
// statistics rows, which carry no trace id, are copied as they are.
// buildReadDB checks the result through the API against the generator.

func benchTraceCount() int {
	if n, err := strconv.Atoi(os.Getenv("ROENTGEN_CH_BENCH_TRACES")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

// benchSeed is how many traces are ingested before multiplying
// (ROENTGEN_CH_BENCH_SEED; default 100,000, or the count if smaller).
func benchSeed(n int) int {
	s := 100_000
	if v, err := strconv.Atoi(os.Getenv("ROENTGEN_CH_BENCH_SEED")); err == nil && v > 0 {
		s = v
	}
	return min(s, n)
}

// benchSpan is the window the traces' times are spread over
// (ROENTGEN_CH_BENCH_SPAN seconds; default ten hours). A span set there is
// whole hours ending at the last hour boundary before the build, so that
// ROENTGEN_CH_BENCH_TRACES=1000000 ROENTGEN_CH_BENCH_SPAN=3600 is one
// partition at the density of 1M traces per hour.
func benchSpan() (span int64, aligned bool) {
	if v, err := strconv.ParseInt(os.Getenv("ROENTGEN_CH_BENCH_SPAN"), 10, 64); err == nil && v > 0 {
		return v - v%3600 + 3600*int64(min(v%3600, 1)), true
	}
	return 10 * 3600, false
}

// seedGen regenerates the seed: trace i, its documents as ingested. Each
// trace's root segment carries the annotation customer = "c-<i mod 1000>"
// (0.1% of traces per value), and one trace in 100 (i mod 100 = 7) has its
// root service named "x".
type seedGen struct {
	g          *bench.Generator
	start, end int64
	n, next    int
}

func newSeedGen(start, end int64, n int) *seedGen {
	return &seedGen{g: bench.NewGenerator(17), start: start, end: end, n: n}
}

func (s *seedGen) trace() (i int, id string, docs [][]byte) {
	i = s.next
	s.next++
	at := time.Unix(s.start+int64(i)*(s.end-s.start)/int64(s.n), int64(i%1000)*1e6)
	id, docs = s.g.Trace(at, 0)
	docs[0] = bytes.Replace(docs[0], []byte(`"annotations":{`), fmt.Appendf(nil, `"annotations":{"customer":"c-%d",`, i%1000), 1)
	if i%100 == 7 {
		for _, name := range []string{"web-frontend", "api-gateway"} {
			docs[0] = bytes.Replace(docs[0], []byte(`"name":"`+name+`"`), []byte(`"name":"x"`), 1)
		}
	}
	return i, id, docs
}

// copyID is copy k (1 ≤ k < 65536) of a seed trace id.
func copyID(id string, k int) string { return id[:11] + fmt.Sprintf("%04x", k) + id[15:] }

// copyIDSQL is copyID in SQL, of the column trace.
func copyIDSQL(k int) string {
	return fmt.Sprintf("concat(substring(trace, 1, 11), '%04x', substring(trace, 16))", k)
}

// copyIDRegexp are the arguments of replaceRegexp… (whose pattern and
// replacement must be constants on 18.16) that rewrite a seed trace id
// inside a document or an encoded summary into copy k's.
func copyIDRegexp(k int) string {
	return fmt.Sprintf(`'(1-[0-9a-f]{8}-)[0-9a-f]{4}([0-9a-f]{20})', '\\1%04x\\2'`, k)
}

type readDB struct {
	url        string
	start, end int64
	seed, n    int
	srv        *api.Server
}

func openReadDB(b *testing.B) *readDB {
	b.Helper()
	base, err := url.Parse(clickhousetest.ServerURL(b))
	if err != nil {
		b.Fatal(err)
	}
	n := benchTraceCount()
	seed := benchSeed(n)
	if n%seed != 0 || n/seed > 65535 {
		b.Fatalf("%d traces are not a multiple (≤ 65535) of the %d-trace seed", n, seed)
	}
	base.Path = fmt.Sprintf("/roentgen_bench_reads_%d", n)
	if span, aligned := benchSpan(); aligned {
		base.Path += fmt.Sprintf("_%dh", span/3600)
	}
	db := &readDB{url: base.String(), seed: seed, n: n}
	st := open(b, db.url)
	b.Cleanup(func() { st.Close() })
	// "start end seed copies": copies is how many the database holds, which
	// may be fewer than n/seed for a build stopped early (see BENCHMARKS.md).
	built := query(b, db.url, `SELECT argMax(value, ver) FROM meta WHERE kind = 'bench' AND key = 'built'`)
	if f := strings.Fields(built); len(f) == 4 && f[2] == strconv.Itoa(seed) {
		db.start, _ = strconv.ParseInt(f[0], 10, 64)
		db.end, _ = strconv.ParseInt(f[1], 10, 64)
		copies, _ := strconv.Atoi(f[3])
		db.n = copies * seed
	} else {
		// Half-built or never built: start afresh.
		if err := st.DropDatabase(context.Background()); err != nil {
			b.Fatal(err)
		}
		st = open(b, db.url)
		buildReadDB(b, db, st)
	}
	in := ingest.New(ingest.Config{Store: st, Now: func() time.Time { return time.Unix(db.end, 0) }})
	b.Cleanup(in.Close)
	db.srv, _, err = app.Wire(context.Background(), app.Parts{Store: st, Ingest: in})
	if err != nil {
		b.Fatal(err)
	}
	return db
}

// buildReadDB ingests the seed and multiplies it (see above).
func buildReadDB(b *testing.B, db *readDB, st *clickhouse.Store) {
	b.Helper()
	ctx := context.Background()
	t0 := time.Now()
	db.end = time.Now().Unix()
	span, aligned := benchSpan()
	if aligned {
		db.end -= db.end % 3600
	}
	db.start = db.end - span
	in := ingest.New(ingest.Config{Store: st})
	srv, _, err := app.Wire(ctx, app.Parts{Store: st, Ingest: in})
	if err != nil {
		b.Fatal(err)
	}
	gen := newSeedGen(db.start, db.end, db.seed)
	batches := make(chan [][]byte, 4)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for batch := range batches {
				// A dense seed (a short span) outruns the summaries: wait
				// while ingest is at its memory bound (it stores nothing).
				for tries := 0; ; {
					r, err := in.TryIngest(ctx, batch, ingest.Options{Source: "bench"})
					if errors.Is(err, ingest.ErrThrottled) {
						time.Sleep(100 * time.Millisecond)
						continue
					}
					if err == nil && len(r) > 0 && tries < 3 {
						// A failed INSERT (a connection the server had
						// closed): send its documents again.
						tries++
						var again [][]byte
						for _, x := range r {
							again = append(again, batch[x.Index])
						}
						b.Logf("%d segments not stored (%s): sent again", len(r), r[0].Error.Message)
						batch = again
						continue
					}
					if err != nil || len(r) > 0 {
						b.Errorf("rejected: %v %d segments, the first: %+v", err, len(r), r[0].Error)
					}
					break
				}
			}
		}()
	}
	var batch [][]byte
	segs := 0
	for range db.seed {
		_, _, docs := gen.trace()
		batch = append(batch, docs...)
		segs += len(docs)
		if len(batch) >= 2000 {
			batches <- batch
			batch = nil
		}
	}
	batches <- batch
	close(batches)
	wg.Wait()
	in.Sync(ctx)
	in.Close()
	b.Logf("seed: %d traces, %d segments ingested in %v", db.seed, segs, time.Since(t0))
	seedGraph := serviceCounts(b, srv, db.start, db.end+1)

	// Multiply from a snapshot of the seed's rows.
	t1 := time.Now()
	// Each table's columns, and what copy k stores in them (%[1]s: its id);
	// docs' rows are copied in Go (copyDocs).
	tables := []struct{ name, cols, copy string }{
		{"docs", "p, trace, doc, ver, raw, epoch", ""},
		{"summaries", "p, epoch, trace, ver, sum", "p, epoch, %[1]s, ver, replaceRegexpOne(sum, %[2]s)"},
		{"terms", "p, field, value, epoch, trace, ver", "p, field, value, epoch, %[1]s, ver"},
		{"stats", "p, res, bucket, grp, entity, value", "p, res, bucket, grp, entity, value"},
		{"traces", "p, trace, epoch, ver, pending", "p, %[1]s, epoch, ver, pending"},
	}
	for _, t := range tables {
		query(b, db.url, "DROP TABLE IF EXISTS bench_seed_"+t.name)
		query(b, db.url, fmt.Sprintf("CREATE TABLE bench_seed_%s ENGINE = Log AS SELECT %s FROM %s", t.name, t.cols, t.name))
	}
	for k := 1; k < db.n/db.seed; k++ {
		copyDocs(b, db.url, st, k)
		for _, t := range tables[1:] {
			cols := t.copy
			if strings.Contains(cols, "%") {
				cols = fmt.Sprintf(cols, copyIDSQL(k), copyIDRegexp(k))
			}
			query(b, db.url, fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM bench_seed_%s", t.name, t.cols, cols, t.name))
		}
		if k%10 == 0 {
			b.Logf("copy %d of %d, %v", k, db.n/db.seed, time.Since(t1))
		}
	}
	for _, t := range tables {
		query(b, db.url, "DROP TABLE bench_seed_"+t.name)
	}
	b.Logf("multiplied to %d traces in %v", db.n, time.Since(t1))

	// The statistics: every service's count is the seed's times the factor.
	checkStatsCopies(b, db)
	graph := serviceCounts(b, srv, db.start, db.end+1)
	factor := int64(db.n / db.seed)
	for k, v := range seedGraph {
		if graph[k] != v*factor {
			b.Fatalf("service %s: %d requests after multiplying, the seed had %d (×%d = %d)", k, graph[k], v, factor, v*factor)
		}
	}
	if len(graph) != len(seedGraph) {
		b.Fatalf("services after multiplying %v, before %v", graph, seedGraph)
	}
	db.srv = srv
	verifyReadDB(b, db, 50)
	query(b, db.url, fmt.Sprintf("INSERT INTO meta (kind, key, ver, deleted, value) VALUES ('bench', 'built', 1, 0, '%d %d %d %d')", db.start, db.end, db.seed, db.n/db.seed))
	b.Logf("built %d traces in %v", db.n, time.Since(t0))
}

// copyDocs inserts copy k of the seed's documents (bench_seed_docs), a
// partition at a time: documents are stored compressed (docform.go), so
// the ids inside them are rewritten in Go, as copyIDRegexp does in SQL
// for the summaries.
func copyDocs(b *testing.B, dbURL string, st *clickhouse.Store, k int) {
	b.Helper()
	ctx := context.Background()
	re := regexp.MustCompile(`(1-[0-9a-f]{8}-)[0-9a-f]{4}([0-9a-f]{20})`)
	with := []byte(fmt.Sprintf("${1}%04x${2}", k))
	for _, p := range strings.Fields(query(b, dbURL, "SELECT DISTINCT p FROM bench_seed_docs ORDER BY p")) {
		if err := st.CopyDocs(ctx, "bench_seed_docs", "p = "+p, func(trace string, doc []byte) (string, []byte) {
			return copyID(trace, k), re.ReplaceAll(doc, with)
		}); err != nil {
			b.Fatal(err)
		}
	}
}

// checkStatsCopies checks that the statistics rows are the seed's, each
// as many times as there are copies: every distinct row occurs a multiple
// of that many times, and the rows number that many times the distinct ones'
// occurrences in the seed, so every sum the graph makes is the seed's times
// the factor.
func checkStatsCopies(b *testing.B, db *readDB) {
	b.Helper()
	f := db.n / db.seed
	if bad := rows(b, db.url, fmt.Sprintf("SELECT count() FROM (SELECT count() AS c FROM stats GROUP BY res, grp, bucket, entity, value HAVING c %% %d != 0)", f)); bad != 0 {
		b.Fatalf("%d statistics rows are not copied %d times", bad, f)
	}
}

// serviceCounts is GetServiceGraph's total request count per service.
func serviceCounts(b *testing.B, srv *api.Server, from, to int64) map[string]int64 {
	b.Helper()
	out := map[string]int64{}
	var token *string
	for {
		in := map[string]any{"StartTime": from, "EndTime": to}
		if token != nil {
			in["NextToken"] = *token
		}
		var g struct {
			Services []struct {
				Name              *string
				Type              string
				SummaryStatistics struct{ TotalCount int64 }
			}
			NextToken *string
		}
		call(b, srv, "/ServiceGraph", in, &g)
		for _, s := range g.Services {
			name := ""
			if s.Name != nil {
				name = *s.Name
			}
			out[name+"|"+s.Type] += s.SummaryStatistics.TotalCount
		}
		if token = g.NextToken; token == nil {
			return out
		}
	}
}

func call(b *testing.B, srv *api.Server, path string, in, out any) {
	b.Helper()
	body, _ := json.Marshal(in)
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, httptest.NewRequest("POST", path, bytes.NewReader(body)))
	if w.Code != 200 {
		b.Fatalf("%s: %d %s", path, w.Code, w.Body.String())
	}
	if err := json.Unmarshal(w.Body.Bytes(), out); err != nil {
		b.Fatal(err)
	}
}

// sample is copies of seed traces, spread over the seed and the copies.
type sampled struct {
	i, k int
	id   string
	docs [][]byte // as ingested under id
}

func sampleTraces(db *readDB, count int) []sampled {
	gen := newSeedGen(db.start, db.end, db.seed)
	factor := db.n / db.seed
	var out []sampled
	step := max(db.seed/count, 1)
	for range db.seed {
		i, id, docs := gen.trace()
		if i%step != step/2 || len(out) == count {
			continue
		}
		k := (i * 7919) % factor
		s := sampled{i: i, k: k, id: id}
		if k > 0 {
			s.id = copyID(id, k)
		}
		for _, d := range docs {
			s.docs = append(s.docs, bytes.ReplaceAll(d, []byte(id), []byte(s.id)))
		}
		out = append(out, s)
	}
	return out
}

// verifyReadDB checks count sampled traces through the API: BatchGetTraces
// returns exactly the documents the generator made for them, and
// GetTraceSummaries finds each by its annotation in its second.
func verifyReadDB(b *testing.B, db *readDB, count int) {
	b.Helper()
	for _, s := range sampleTraces(db, count) {
		var got struct {
			Traces []struct {
				Id       string
				Segments []struct{ Document string }
			}
			UnprocessedTraceIds []string
		}
		call(b, db.srv, "/Traces", map[string]any{"TraceIds": []string{s.id}}, &got)
		if len(got.Traces) != 1 || got.Traces[0].Id != s.id {
			b.Fatalf("trace %s (seed %d, copy %d): %+v", s.id, s.i, s.k, got)
		}
		var have, want []string
		for _, seg := range got.Traces[0].Segments {
			if !strings.Contains(seg.Document, `"inferred":true`) { // segments BatchGetTraces infers
				have = append(have, canonical(b, []byte(seg.Document)))
			}
		}
		for _, d := range s.docs {
			want = append(want, canonical(b, d))
		}
		slices.Sort(have)
		slices.Sort(want)
		if !slices.Equal(have, want) {
			b.Fatalf("trace %s (seed %d, copy %d): documents\n%v\nwant\n%v", s.id, s.i, s.k, have, want)
		}
		ep, _ := strconv.ParseInt(s.id[2:10], 16, 64)
		var sums struct {
			TraceSummaries []struct {
				Id          string
				Annotations map[string][]struct{ AnnotationValue struct{ StringValue *string } }
			}
		}
		call(b, db.srv, "/TraceSummaries", map[string]any{"StartTime": ep - 2, "EndTime": ep + 2,
			"FilterExpression": fmt.Sprintf(`annotation.customer = "c-%d"`, s.i%1000)}, &sums)
		found := false
		for _, t := range sums.TraceSummaries {
			if t.Id == s.id {
				found = true
				if a := t.Annotations["customer"]; len(a) != 1 || a[0].AnnotationValue.StringValue == nil || *a[0].AnnotationValue.StringValue != fmt.Sprintf("c-%d", s.i%1000) {
					b.Fatalf("trace %s: annotations %+v", s.id, t.Annotations)
				}
			}
		}
		if !found {
			b.Fatalf("trace %s (seed %d, copy %d) not found by its annotation", s.id, s.i, s.k)
		}
	}
}

// canonical is a JSON document re-encoded with sorted keys.
func canonical(b *testing.B, doc []byte) string {
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		b.Fatalf("%v: %s", err, doc)
	}
	out, _ := json.Marshal(v)
	return string(out)
}

// latencies reports p50, p90 and max of ds in ms.
func latencies(b *testing.B, ds []time.Duration) {
	slices.Sort(ds)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(ds[len(ds)/2]), "p50-ms")
	b.ReportMetric(ms(ds[len(ds)*9/10]), "p90-ms")
	b.ReportMetric(ms(ds[len(ds)-1]), "max-ms")
}

// BenchmarkReadsClickHouse measures GetTraceSummaries, BatchGetTraces and
// GetServiceGraph through the API handler on the database above, and
// reports the bytes on disk per segment after OPTIMIZE … FINAL.
func BenchmarkReadsClickHouse(b *testing.B) {
	db := openReadDB(b)
	verifyReadDB(b, db, 5)
	b.Logf("%d traces (a %d-trace seed × %d), %v to %v", db.n, db.seed, db.n/db.seed, time.Unix(db.start, 0).UTC(), time.Unix(db.end, 0).UTC())
	lastHour := db.end - db.end%3600
	for _, c := range []struct {
		name, expr string
		from, to   int64
	}{
		{"summaries/annotation/10h", `annotation.customer = "c-42"`, db.start, db.end + 1},
		{"summaries/service/10h", `service("x")`, db.start, db.end + 1},
		{"summaries/annotation/1h", `annotation.customer = "c-42"`, lastHour - 3600, lastHour},
		{"summaries/service/1h", `service("x")`, lastHour - 3600, lastHour},
	} {
		b.Run(c.name, func(b *testing.B) {
			var lat []time.Duration
			n := 0
			for b.Loop() {
				var out struct{ TraceSummaries []json.RawMessage }
				t0 := time.Now()
				call(b, db.srv, "/TraceSummaries", map[string]any{"StartTime": c.from, "EndTime": c.to, "FilterExpression": c.expr}, &out)
				lat = append(lat, time.Since(t0))
				n = len(out.TraceSummaries)
			}
			latencies(b, lat)
			b.ReportMetric(float64(n), "results")
		})
	}
	b.Run("batchgettraces", func(b *testing.B) {
		ids := sampleTraces(db, 200)
		var lat []time.Duration
		i := 0
		for b.Loop() {
			s := ids[i%len(ids)]
			i++
			var out struct {
				Traces []struct{ Segments []json.RawMessage }
			}
			t0 := time.Now()
			call(b, db.srv, "/Traces", map[string]any{"TraceIds": []string{s.id}}, &out)
			lat = append(lat, time.Since(t0))
			if len(out.Traces) != 1 || len(out.Traces[0].Segments) < len(s.docs) {
				b.Fatalf("trace %s: %+v", s.id, out)
			}
		}
		latencies(b, lat)
	})
	for _, c := range []struct {
		name     string
		from, to int64
	}{
		{"servicegraph/1h-aligned", lastHour - 3600, lastHour},
		{"servicegraph/1h", db.end - 3600, db.end},
	} {
		b.Run(c.name, func(b *testing.B) {
			var lat []time.Duration
			for b.Loop() {
				var out struct{ Services []json.RawMessage }
				t0 := time.Now()
				call(b, db.srv, "/ServiceGraph", map[string]any{"StartTime": c.from, "EndTime": c.to}, &out)
				lat = append(lat, time.Since(t0))
				if len(out.Services) == 0 {
					b.Fatal("no services")
				}
			}
			latencies(b, lat)
		})
	}
	// The same statistics as a series of the last hour: one point per
	// minute (resolution 60) and per 5 minutes (300).
	for _, period := range []int64{60, 300} {
		b.Run(fmt.Sprintf("timeseries/1h-%ds", period), func(b *testing.B) {
			var lat []time.Duration
			for b.Loop() {
				var out struct{ TimeSeriesServiceStatistics []json.RawMessage }
				t0 := time.Now()
				call(b, db.srv, "/TimeSeriesServiceStatistics", map[string]any{"StartTime": lastHour - 3600, "EndTime": lastHour,
					"Period": period, "EntitySelectorExpression": `service("api-gateway")`}, &out)
				lat = append(lat, time.Since(t0))
				if len(out.TimeSeriesServiceStatistics) == 0 {
					b.Fatal("no points")
				}
			}
			latencies(b, lat)
		})
	}
}

// BenchmarkDiskClickHouse reports the read database's bytes on disk per
// segment once every table is merged (OPTIMIZE … FINAL; minutes at 1e7).
func BenchmarkDiskClickHouse(b *testing.B) {
	db := openReadDB(b)
	for b.Loop() {
		for _, t := range []string{"traces", "docs", "summaries", "terms", "stats"} {
			query(b, db.url, "OPTIMIZE TABLE "+t+" FINAL")
		}
	}
	segs, _ := strconv.ParseFloat(query(b, db.url, "SELECT count() FROM docs"), 64)
	bytesOnDisk, _ := strconv.ParseFloat(query(b, db.url, "SELECT sum(bytes_on_disk) FROM system.parts WHERE database = currentDatabase() AND active"), 64)
	b.ReportMetric(bytesOnDisk/segs, "disk-bytes/segment")
	b.ReportMetric(segs, "segments")
	for _, t := range []string{"traces", "docs", "summaries", "terms", "stats", "stats_rollups"} {
		v, _ := strconv.ParseFloat(query(b, db.url, "SELECT sum(bytes_on_disk) FROM system.parts WHERE database = currentDatabase() AND active AND table = '"+t+"'"), 64)
		b.ReportMetric(v/segs, t+"-bytes/segment")
	}
}
