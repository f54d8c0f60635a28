package segment_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	gojson "github.com/goccy/go-json"

	"github.com/roentgen-tracing/roentgen/internal/bench"
	"github.com/roentgen-tracing/roentgen/internal/fixtures"
	"github.com/roentgen-tracing/roentgen/internal/segment"
)

// sameAsGoccy checks that whatever DecodeFast accepts, goccy decodes to the
// same Segment without an error, and that DecodeFastBlock does too, and
// reports whether DecodeFast took it.
func sameAsGoccy(t *testing.T, doc []byte) bool {
	t.Helper()
	var fast segment.Segment
	if !segment.DecodeFast(doc, &fast) {
		return false
	}
	var ref segment.Segment
	if err := gojson.UnmarshalWithOption(doc, &ref, gojson.DecodeNoCopyString()); err != nil {
		t.Fatalf("DecodeFast took a document goccy refuses (%v): %s", err, doc)
	}
	if !reflect.DeepEqual(fast, ref) {
		t.Fatalf("DecodeFast and goccy differ on %s\nfast:  %#v\ngoccy: %#v", doc, fast, ref)
	}
	// parseOne's way, with the segment's objects in one block.
	var blk segment.Segment
	if !segment.DecodeFastBlock(doc, &blk) || !reflect.DeepEqual(blk, ref) {
		t.Fatalf("DecodeFast into a block and goccy differ on %s\nblock: %#v\ngoccy: %#v", doc, blk, ref)
	}
	return true
}

// generatedDocs are internal/bench's documents of both trace shapes.
func generatedDocs() [][]byte {
	var docs [][]byte
	now := time.Now()
	for seed := uint64(1); seed <= 4; seed++ {
		g := bench.NewGenerator(seed)
		for range 500 {
			_, d := g.Trace(now, int(seed%2))
			for _, x := range d {
				docs = append(docs, bytes.Clone(x))
			}
		}
	}
	return docs
}

// fixtureDocs are the objects the SDKs sent: every datagram's, and every
// document of the recorded PutTraceSegments calls.
func fixtureDocs() [][]byte {
	var out [][]byte
	for _, dg := range fixtures.Datagrams() {
		out = append(out, objects(dg.Body())...)
	}
	for _, r := range fixtures.Requests() {
		var body struct{ TraceSegmentDocuments []string }
		if json.Unmarshal(r.Body, &body) != nil {
			continue
		}
		for _, d := range body.TraceSegmentDocuments {
			out = append(out, objects([]byte(d))...)
		}
	}
	return out
}

// objects splits a document that is an array into its elements.
func objects(doc []byte) [][]byte {
	doc = bytes.TrimSpace(doc)
	if len(doc) == 0 || doc[0] != '[' {
		return [][]byte{doc}
	}
	var elems []gojson.RawMessage
	if err := gojson.Unmarshal(doc, &elems); err != nil {
		return nil
	}
	out := make([][]byte, len(elems))
	for i, e := range elems {
		out[i] = e
	}
	return out
}

func TestDecodeFastMatchesGoccyOnGeneratedLoad(t *testing.T) {
	gen := generatedDocs()
	fast := 0
	for _, d := range gen {
		if sameAsGoccy(t, d) {
			fast++
		}
	}
	t.Logf("generated: %d of %d decoded fast", fast, len(gen))
	if fast != len(gen) {
		t.Errorf("%d generated documents fell back to goccy", len(gen)-fast)
	}
}

func TestDecodeFastMatchesGoccyOnFixtures(t *testing.T) {
	docs := fixtureDocs()
	fast := 0
	for _, d := range docs {
		if sameAsGoccy(t, d) {
			fast++
		} else {
			t.Logf("fell back: %.200s", d)
		}
	}
	t.Logf("fixtures: %d of %d decoded fast", fast, len(docs))
	if len(docs) < 50 || fast != len(docs) {
		t.Errorf("%d of %d fixture documents fell back to goccy", len(docs)-fast, len(docs))
	}
}

func TestDecodeFastMatchesGoccyOnEdgeCases(t *testing.T) {
	fast := 0
	for _, d := range edgeDocs {
		if sameAsGoccy(t, []byte(d)) {
			fast++
		}
	}
	// The plain forms must be taken: a decoder that gives up on everything
	// would pass the comparison.
	for _, d := range []string{`{}`, `{"id":"70de5b6f19ff9a0a","name":"a\"b\u00e9\ud83d\ude00","start_time":1.5e9,"annotations":{"a":1,"b":null}}`,
		`{"cause":{"exceptions":[{"stack":[{"line":null}]}]},"http":null,"metadata":{"a":[1,{"b":"\u0000"}]},"x":1}`} {
		if !segment.DecodeFast([]byte(d), new(segment.Segment)) {
			t.Errorf("fell back on %s", d)
		}
	}
	t.Logf("edge cases: %d of %d decoded fast", fast, len(edgeDocs))
}

// edgeDocs are shapes DecodeFast must decode as goccy does or leave to it.
var edgeDocs = func() []string {
	base := `"id":"70de5b6f19ff9a0a","name":"a","start_time":1.5`
	members := []string{
		`"subsegments":[]`, `"subsegments":[{}]`, `"subsegments":[null]`, `"subsegments":null`, `"subsegments":[{"id":"x","subsegments":[{"name":"y"}]}]`,
		`"annotations":{}`, `"annotations":{"a":1,"b":"x","c":true,"d":false}`, `"annotations":{"a":1,"a":2}`, `"annotations":{"a":1}, "annotations":{"b":2}`,
		`"annotations":{"a":null}`, `"annotations":{"a":[1]}`, `"annotations":{"a":{"b":1}}`, `"annotations":{"":1e3}`, `"annotations":{"A":-0.0}`,
		`"annotations":null`, `"annotations":[]`, `"annotations":{"a\u00e9":1}`, `"annotations":{"é":1e-400}`,
		`"metadata":{"x":{"y":[1,"\u00e9\n",null,true]}}`, `"metadata":null`, `"metadata":[]`, `"metadata":1`, `"metadata":{"a":"` + "\x01" + `"}`, `"metadata":{"a":1,}`,
		`"metadata":{"a":"\q"}`, `"metadata":{"a":01}`, "\"metadata\":{\"a\":\"\xff\"}", `"metadata":` + strings.Repeat("[", 70) + strings.Repeat("]", 70),
		`"http":{}`, `"http":null`, `"http":{"request":{"method":"GET","x_forwarded_for":true},"response":{"status":200,"content_length":-0}}`,
		`"http":{"response":{"status":200.0}}`, `"http":{"response":{"status":1e2}}`, `"http":{"response":{"status":"200"}}`, `"http":{"response":{"status":null}}`,
		`"http":{"response":{"status":99999999999999999999}}`, `"http":{"response":{"status":-12}}`, `"http":{"response":{"status":012}}`,
		`"http":{"response":{"status":123456789012345678}}`, `"http":{"response":{"status":1234567890123456789}}`, `"http":{"request":null,"response":null}`,
		`"http":{"request":{"method":"GET","Method":"PUT"}}`, `"http":{"request":{"method":"GET","method":"PUT"}}`, `"http":{"request":{"traced":"yes"}}`,
		`"aws":{"xray":{"auto_instrumentation":false}}`, `"aws":{"xray":{"auto_instrumentation":true}}`, `"aws":{"xray":{"auto_instrumentation":null}}`,
		`"aws":{"table_names":["a","b"],"resource_names":[]}`, `"aws":{"table_names":null}`, `"aws":{"ec2":null,"ecs":{},"eks":{"pod":"p"},"lambda":{"function_version":"1"}}`,
		`"aws":{"cloudwatch_logs":[{"log_group":"g"},{}],"ec2":{"instance_id":"i"},"elastic_beanstalk":{"deployment_id":3}}`, `"aws":{"cloudwatch_logs":[null]}`,
		`"aws":{"table_names":[null]}`, `"aws":{"table_names":["a",1]}`, `"aws":{"retries":1,"retries":2}`, `"aws":{"ec2":{"instance_id":"a","instance_id":"b"}}`,
		`"aws":{"ecs":{"container":"c","availability_zone":"z","launch_type":"EC2","cluster_arn":"x"},"operation":"Op","region":"r","request_id":"q"}`,
		`"links":[{"trace_id":"t","attributes":{"k":"v","n":2}}]`, `"links":[]`, `"links":[{"attributes":{"k":[1]}}]`, `"links":[null]`, `"precursor_ids":["a"]`,
		`"cause":"1234567890abcdef"`, `"cause":"\u0031"`, `"cause":null`, `"cause":1`, `"cause":[]`, `"cause":{}`, `"cause":{"exceptions":[{"id":"a"}]}`,
		`"cause":{"working_directory":"/w","paths":["/p"],"exceptions":[{"id":"a","message":"m\"q","type":"T","remote":true,"truncated":2,"skipped":1,"cause":"b","stack":[{"path":"p","line":3,"label":"l"}]}]}`,
		`"cause":{"exceptions":[null]}`, `"cause":{"exceptions":[{"stack":[null]}]}`, `"cause":{"exceptions":[{"stack":[{"line":1.5}]}]}`, `"cause":{"Exceptions":[]}`,
		`"cause":{"exceptions":[],"exceptions":[]}`, `"cause":{"exceptions":[{"Id":"a"}]}`, `"cause":{"paths":null,"exceptions":null}`,
		`"sql":{"url":"u","sanitized_query":"select 1","user":"u","preparation":"statement"}`, `"sql":null`, `"service":{"version":"1","runtime":"go"}`, `"service":[]`,
		`"Name":"b"`, `"NAME":"b"`, `"name":"b"`, `"nAme":1`, `"unknown":{"a":[{"b":null}]}`, `"\u006eame":"b"`, `"näme":"b"`, "\"\u212aey\":1", `"ſtart_time":2`,
		`"name":"é"`, `"name":"\u00e9"`, `"name":"a\"b"`, "\"name\":\"\xff\"", "\"name\":\"a\tb\"", `"name":""`, `"name":null`, `"name":"\ud800"`, `"name":"\ud800\u0041"`,
		`"name":"\udc00\ud800"`, `"name":"\ud83d\ude00x"`, `"name":"\/\b\f\n\r\t\\"`, `"name":"` + strings.Repeat("ab", 100) + `"`,
		`"start_time":1e400`, `"start_time":-1.5E-3`, `"start_time":1.`, `"start_time":.5`, `"start_time":"1"`, `"start_time":null`, `"start_time":1e22`,
		`"start_time":9007199254740993`, `"start_time":9007199254740993.0`, `"start_time":0.1e1`, `"start_time":1765000000.123456`, `"start_time":123456789012345678901234567890`,
		`"start_time":-0`, `"start_time":0.0000000000000000000000001`, `"start_time":1E+2`, `"start_time":2.2250738585072011e-308`, `"start_time":4.9e-324`, `"start_time":1e-400`,
		`"in_progress":true`, `"in_progress":tru`, `"in_progress":1`, `"error":false`, `"fault":null`, `"traced":true,"inferred":true,"throttle":true`,
		`"metadata":{"a\"":1}`, `"metadata":{"a\\":1}`, `"metadata":{"a\":1}`, `"metadata":{"\u0041":{"b\n":[]}}`, "\"metadata\":{\"a\x01\":1}",
		`"annotations":{"a\"b":1}`, `"annotations":{"a\\":1}`, `"unknown\"":1`, `"unknown\\":1`, `"x\":1,"id":"a"`, `"Dummy":false`, `"DUMMY":{"ID":1}`,
		`"http":{"Request":{"method":"GET"}}`, `"http":{"request":{"Dummy":1,"METHOD":"GET"}}`, `"aws":{"XRay":{}}`, `"aws":{"ecs":{"Container":"c"}}`,
		`"subsegments":[{"Dummy":false,"ID":"b"}]`, `"cause":{"exceptions":[{"Stack":[]}]}`, `"cause":{"Dummy":1}`,
		`"Raw":"x"`, `"raw":"x"`, `"-":1`, `"trace_id":"1-5f84c7a2-00000000000000000000000a"`, `"resource_arn":"arn","user":"u","namespace":"aws","origin":"o","type":"subsegment"`,
	}
	var out []string
	for _, m := range members {
		out = append(out, "{"+base+","+m+"}", "{"+m+","+base+"}", "{ "+strings.ReplaceAll(m, ":", " :\n")+" }")
	}
	out = append(out, `{}`, `{ }`, `{"id":"a"} `, `{"id":"a"}x`, `{"id":"a"}}`, `{"id":"a",}`, `{"id" "a"}`, `{"id":"a"`, `{`, `[]`, `{"a":[1,]}`, `{"a":[1 2]}`,
		`{"a":{"b":1,}}`, `{"a":"\x"}`, `{"a":"\u12"}`, `{"a":01}`, `{"a":-}`, `{"a":1e}`, `{"a":tru}`, `{"a":nul}`, `{"a" : {"b" : [ ] , "c" : { } } }`,
		fmt.Sprintf(`{"a":%s}`, strings.Repeat("[", 100)+strings.Repeat("]", 100)), fmt.Sprintf(`{"subsegments":[%s]}`, strings.Repeat(`{"subsegments":[`, 40)+strings.Repeat("]}", 40)))
	return out
}()

func FuzzDecodeFast(f *testing.F) {
	for _, d := range edgeDocs {
		f.Add([]byte(d))
	}
	for _, d := range generatedDocs()[:20] {
		f.Add(d)
	}
	for _, d := range fixtureDocs() {
		f.Add(d)
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		sameAsGoccy(t, doc)
	})
}

// Numbers are read eight digits at a time: every length and digit is
// held to strconv.
func TestDecodeFastNumbers(t *testing.T) {
	for n := 1; n <= 40; n++ {
		for _, d := range "0123456789" {
			for _, form := range []string{"%s", "-%s", "1%s.5", "0.%s", "%s.%s", "%se-7", "1.%sE+3"} {
				digits := strings.Repeat(string(d), n)
				if d == '0' && n > 1 {
					digits = "1" + digits[1:]
				}
				num := fmt.Sprintf(strings.ReplaceAll(form, "%s", "%[1]s"), digits)
				sameAsGoccy(t, []byte(`{"start_time":`+num+`,"annotations":{"n":`+num+`}}`))
			}
		}
	}
	for _, num := range []string{"1765000000.123456", "1765000000.1234567", "12345678", "123456789.87654321", "9007199254740992", "9007199254740993", "18446744073709551615", "18446744073709551616"} {
		if !sameAsGoccy(t, []byte(`{"start_time":`+num+`}`)) {
			t.Errorf("%s fell back", num)
		}
	}
}

// Parse puts a segment's http, aws and service objects in the segment's
// own allocation: each document's must stay its own while later
// documents are parsed (ingest keeps parsed segments in its cache).
func TestParseKeepsEachDocumentsObjects(t *testing.T) {
	docs := append(generatedDocs()[:400], fixtureDocs()...)
	opt := segment.Options{Now: time.Now(), SkipTraceEpoch: true, Stored: true}
	var kept []*segment.Segment
	for _, d := range docs {
		segs, err := segment.Parse(d, opt)
		if err != nil {
			t.Fatal(err)
		}
		kept = append(kept, segs...)
	}
	seen := map[any]bool{}
	for i, s := range kept {
		for _, p := range []any{s.HTTP, s.AWS, s.Service} {
			if !reflect.ValueOf(p).IsNil() {
				if seen[p] {
					t.Fatalf("document %d shares %T with another", i, p)
				}
				seen[p] = true
			}
		}
		again, err := segment.Parse(s.Raw, opt)
		if err != nil || !reflect.DeepEqual(again[0], s) {
			t.Fatalf("document %d changed after later ones were parsed: %v", i, err)
		}
	}
}
