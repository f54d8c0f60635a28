package clickhouse_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse"
	"github.com/roentgen-tracing/roentgen/internal/store/clickhouse/clickhousetest"
)

// BenchmarkDocsCeilingClickHouse is the floor under any ClickHouse ingest:
// b.N generated segments' rows of the docs table alone (no Roentgen, no
// summaries, terms, statistics, marks or leases), sent in RowBinary in
// INSERTs of a fixed number of rows, each document in its stored form (its
// compression is Roentgen's CPU, not counted here). With CLICKHOUSE_PID it reports the
// server's CPU per segment for the INSERTs (clickhouse-cpu-ns/op) and with
// the merges they caused, once the server has none left for the database
// (merged-cpu-ns/op). What 2 cores can ingest at most is 2 s of CPU over
// that per-segment cost.
func BenchmarkDocsCeilingClickHouse(b *testing.B) {
	for _, batch := range []int{1_000, 10_000, 50_000} {
		b.Run(fmt.Sprintf("rows=%d", batch), func(b *testing.B) {
			u := clickhousetest.NewDatabase(b)
			open(b, u) // the schema
			bodies := docsBodies(b, b.N, batch)
			b.ResetTimer()
			ch0, wall := clickhousetest.ServerCPU(), time.Now()
			for _, body := range bodies {
				insertRowBinary(b, u, "docs (p, trace, doc, ver, raw)", body)
			}
			elapsed := time.Since(wall)
			ch1 := clickhousetest.ServerCPU()
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "segments/s")
			if ch1 > ch0 {
				b.ReportMetric(float64(ch1-ch0)/float64(b.N), "clickhouse-cpu-ns/op")
			}
			deadline := time.Now().Add(2 * time.Minute)
			for rows(b, u, "SELECT count() FROM system.merges WHERE database = currentDatabase()") > 0 && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond) // merges run in the background; polled, not raced
			}
			if ch2 := clickhousetest.ServerCPU(); ch2 > ch0 {
				b.ReportMetric(float64(ch2-ch0)/float64(b.N), "merged-cpu-ns/op")
			}
			if got := rows(b, u, "SELECT count() FROM docs"); got != b.N {
				b.Fatalf("docs holds %d rows, want %d", got, b.N)
			}
		})
	}
}

// docsBodies are RowBinary bodies of docs rows for n generated segments,
// batch rows each, filed as the store files them (the hour's partition).
func docsBodies(b *testing.B, n, batch int) [][]byte {
	g := bench.NewGenerator(3)
	now := time.Now()
	p := uint32(now.Unix() / 3600 * 3600)
	var out [][]byte
	var w bytes.Buffer
	rowsIn := 0
	str := func(s []byte) {
		w.Write(binary.AppendUvarint(nil, uint64(len(s))))
		w.Write(s)
	}
	for made := 0; made < n; {
		_, docs := g.Trace(now, min(4, n-made))
		for _, d := range docs {
			var ids struct {
				ID      string `json:"id"`
				TraceID string `json:"trace_id"`
			}
			if err := json.Unmarshal(d, &ids); err != nil {
				b.Fatal(err)
			}
			_ = binary.Write(&w, binary.LittleEndian, p)
			str([]byte(ids.TraceID))
			str([]byte(ids.ID))
			_ = binary.Write(&w, binary.LittleEndian, uint64(now.UnixNano())+uint64(made))
			str(clickhouse.StoredDoc(d)) // compressed as the store writes it (docform.go)
			made++
			if rowsIn++; rowsIn == batch || made == n {
				out = append(out, bytes.Clone(w.Bytes()))
				w.Reset()
				rowsIn = 0
			}
		}
	}
	return out
}

// insertRowBinary sends one INSERT of RowBinary rows to the database a
// store URL names.
func insertRowBinary(b *testing.B, storeURL, into string, body []byte) {
	u, err := url.Parse(storeURL)
	if err != nil {
		b.Fatal(err)
	}
	db := strings.TrimPrefix(u.Path, "/")
	u.Path = "/"
	u.RawQuery = url.Values{"database": {db}, "query": {"INSERT INTO " + into + " FORMAT RowBinary"}}.Encode()
	resp, err := http.Post(u.String(), "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		var msg bytes.Buffer
		_, _ = msg.ReadFrom(resp.Body)
		b.Fatalf("INSERT: %d %s", resp.StatusCode, msg.String())
	}
}
