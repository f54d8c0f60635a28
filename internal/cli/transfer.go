package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
)

// exported is the file export writes and import reads: BatchGetTraces'
// answer, so that files from AWS X-Ray (aws xray batch-get-traces) import
// too.
type exported struct {
	Traces              []types.Trace
	UnprocessedTraceIds []string
}

func (e *env) export(ctx context.Context, ids []string) error {
	out := exported{Traces: []types.Trace{}, UnprocessedTraceIds: []string{}}
	p := xray.NewBatchGetTracesPaginator(e.client, &xray.BatchGetTracesInput{TraceIds: ids})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		out.Traces = append(out.Traces, page.Traces...)
		out.UnprocessedTraceIds = append(out.UnprocessedTraceIds, page.UnprocessedTraceIds...)
	}
	if err := writeJSON(e.stdout, out); err != nil {
		return err
	}
	if len(out.UnprocessedTraceIds) > 0 {
		return fmt.Errorf("not found: %s", strings.Join(out.UnprocessedTraceIds, ", "))
	}
	return nil
}

// Batches as the X-Ray daemon sends them: at most 50 documents, and well
// under the API's body limit.
const (
	importBatchDocs  = 50
	importBatchBytes = 4 << 20
)

func (e *env) importFile(ctx context.Context, name string) error {
	var r io.Reader = e.stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	var in exported
	if err := json.NewDecoder(r).Decode(&in); err != nil {
		return fmt.Errorf("%s is not a BatchGetTraces answer (roentgen export's output): %v", name, err)
	}
	docs, err := importDocuments(in)
	if err != nil {
		return err
	}
	var batch []string
	size, sent := 0, 0
	var failed []string
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		out, err := e.client.PutTraceSegments(ctx, &xray.PutTraceSegmentsInput{TraceSegmentDocuments: batch})
		if err != nil {
			return err
		}
		for _, u := range out.UnprocessedTraceSegments {
			failed = append(failed, fmt.Sprintf("%s: %s %s", aws.ToString(u.Id), aws.ToString(u.ErrorCode), aws.ToString(u.Message)))
		}
		sent += len(batch) - len(out.UnprocessedTraceSegments)
		batch, size = batch[:0], 0
		return nil
	}
	for _, d := range docs {
		if len(batch) == importBatchDocs || size+len(d) > importBatchBytes {
			if err := flush(); err != nil {
				return err
			}
		}
		batch = append(batch, d)
		size += len(d)
	}
	if err := flush(); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "imported %d documents of %d traces\n", sent, len(in.Traces))
	if len(failed) > 0 {
		return fmt.Errorf("%d documents refused:\n  %s", len(failed), strings.Join(failed, "\n  "))
	}
	return nil
}

// importDocuments are the documents of an export to send again: all but
// the inferred segments, which the server derives from the others.
func importDocuments(in exported) ([]string, error) {
	var docs []string
	for _, t := range in.Traces {
		for _, s := range t.Segments {
			d := aws.ToString(s.Document)
			var h struct {
				Inferred bool `json:"inferred"`
			}
			if err := json.Unmarshal([]byte(d), &h); err != nil {
				return nil, fmt.Errorf("trace %s, document %s is not JSON: %v", aws.ToString(t.Id), aws.ToString(s.Id), err)
			}
			if !h.Inferred {
				docs = append(docs, d)
			}
		}
	}
	return docs, nil
}
