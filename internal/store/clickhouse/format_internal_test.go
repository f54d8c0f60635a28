package clickhouse

import (
	"testing"

	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// summaryFormatSchema is the first schema version whose summaries rows may
// hold each summary encoding. A build that cannot decode an encoding must
// refuse a database holding it at Open ("newer than this Roentgen's"),
// not start and then fail every search and read that meets such a row.
var summaryFormatSchema = map[byte]int{
	0x01: 1, // fieldcodec, keyed
	0x02: 1, // packed
	0x03: 8, // derived (internal/trace/codec_derived.go)
}

// TestSchemaVersionCoversSummaryFormat: the encoding this build writes has
// a schema version, and the schema has reached it.
func TestSchemaVersionCoversSummaryFormat(t *testing.T) {
	// Times and durations that derive, so the derived form is written.
	b, err := trace.EncodeSummary(&trace.Summary{TraceID: "1-5f000000-000000000000000000000000", EntryPoint: -1,
		StartTime: 1, EndTime: 2, Duration: 1, ResponseTime: 1})
	if err != nil {
		t.Fatal(err)
	}
	v, ok := summaryFormatSchema[b[0]]
	if !ok {
		t.Fatalf("summaries are written in format %#x, which has no schema version here: add a migration (schema.go) so that older builds refuse databases holding it", b[0])
	}
	if len(migrations) < v {
		t.Fatalf("summaries are written in format %#x at schema version %d; older builds that cannot read it would start on the database (it needs version %d)", b[0], len(migrations), v)
	}
}
