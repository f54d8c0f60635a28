package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
)

// span is what the timeline needs of a segment or subsegment document.
type span struct {
	ID          string  `json:"id"`
	ParentID    string  `json:"parent_id"`
	Name        string  `json:"name"`
	Origin      string  `json:"origin"`
	Start       float64 `json:"start_time"`
	End         float64 `json:"end_time"`
	InProgress  bool    `json:"in_progress"`
	Fault       bool    `json:"fault"`
	Error       bool    `json:"error"`
	Throttle    bool    `json:"throttle"`
	Inferred    bool    `json:"inferred"`
	Subsegments []*span `json:"subsegments"`

	children []*span // subsegments, then segments whose parent_id is this
}

// row is one line of the timeline.
type row struct {
	Depth      int
	Id         string
	Name       string
	Origin     string `json:",omitempty"`
	Offset     float64
	Duration   float64
	InProgress bool `json:",omitempty"`
	Fault      bool `json:",omitempty"`
	Error      bool `json:",omitempty"`
	Throttle   bool `json:",omitempty"`
}

func (e *env) trace(ctx context.Context, id string) error {
	out, err := e.client.BatchGetTraces(ctx, &xray.BatchGetTracesInput{TraceIds: []string{id}})
	if err != nil {
		return err
	}
	if len(out.Traces) == 0 {
		return fmt.Errorf("trace %s not found", id)
	}
	tr := out.Traces[0]
	rows, err := timelineRows(tr)
	if err != nil {
		return err
	}
	if e.output == "json" {
		return writeJSON(e.stdout, struct {
			Id       string
			Duration float64
			Spans    []row
		}{aws.ToString(tr.Id), aws.ToFloat64(tr.Duration), orEmpty(rows)})
	}
	drawTimeline(e.stdout, aws.ToString(tr.Id), rows, e.width)
	return nil
}

// timelineRows flattens a trace into rows, depth first in time order: each
// segment under the subsegment that called it (its parent_id), as the
// X-Ray console draws it. Inferred segments are left out: they repeat the
// calling subsegment.
func timelineRows(tr types.Trace) ([]row, error) {
	var docs []*span
	byID := map[string]*span{}
	for _, s := range tr.Segments {
		var sp span
		if err := json.Unmarshal([]byte(aws.ToString(s.Document)), &sp); err != nil {
			return nil, fmt.Errorf("document %s: %v", aws.ToString(s.Id), err)
		}
		if sp.Inferred {
			continue
		}
		docs = append(docs, &sp)
	}
	var index func(s *span)
	index = func(s *span) {
		if _, dup := byID[s.ID]; !dup {
			byID[s.ID] = s
		}
		s.children = append(s.children, s.Subsegments...)
		for _, c := range s.Subsegments {
			index(c)
		}
	}
	for _, d := range docs {
		index(d)
	}
	var roots []*span
	t0, t1 := math.Inf(1), math.Inf(-1)
	for _, d := range docs {
		if p := byID[d.ParentID]; d.ParentID != "" && p != nil && p != d {
			p.children = append(p.children, d)
		} else {
			roots = append(roots, d)
		}
	}
	for _, s := range byID {
		t0 = math.Min(t0, s.Start)
		t1 = math.Max(t1, math.Max(s.Start, s.End))
	}
	var rows []row
	seen := map[*span]bool{}
	var walk func(s *span, depth int)
	walk = func(s *span, depth int) {
		if seen[s] {
			return // a parent cycle: drawn once
		}
		seen[s] = true
		end := s.End
		if s.InProgress || end < s.Start {
			end = t1
		}
		rows = append(rows, row{Depth: depth, Id: s.ID, Name: s.Name, Origin: s.Origin, Offset: s.Start - t0, Duration: end - s.Start,
			InProgress: s.InProgress, Fault: s.Fault, Error: s.Error, Throttle: s.Throttle})
		sortByStart(s.children)
		for _, c := range s.children {
			walk(c, depth+1)
		}
	}
	sortByStart(roots)
	for _, r := range roots {
		walk(r, 0)
	}
	return rows, nil
}

func sortByStart(s []*span) {
	sort.SliceStable(s, func(i, j int) bool { return s[i].Start < s[j].Start })
}

// maxLabel bounds the name column; longer names are cut with an ellipsis.
const maxLabel = 48

// drawTimeline writes the rows: name (indented by depth), duration,
// status and a bar of width columns placed and sized by the row's share
// of the trace's span of time.
func drawTimeline(w io.Writer, id string, rows []row, width int) {
	width = max(width, 10)
	total := 0.0
	for _, r := range rows {
		total = math.Max(total, r.Offset+r.Duration)
	}
	fmt.Fprintf(w, "Trace %s  %s  %d segments and subsegments\n\n", id, seconds(total), len(rows))
	labels := make([]string, len(rows))
	lw := len("NAME")
	for i, r := range rows {
		l := strings.Repeat("  ", r.Depth) + r.Name
		if r.Origin != "" {
			l += " (" + r.Origin + ")"
		}
		if utf8.RuneCountInString(l) > maxLabel {
			l = string([]rune(l)[:maxLabel-1]) + "…"
		}
		labels[i] = l
		lw = max(lw, utf8.RuneCountInString(l))
	}
	scale := seconds(total)
	fmt.Fprintf(w, "%s  %9s  %-8s   0%s%s\n", pad("NAME", lw), "DURATION", "STATUS", strings.Repeat(" ", max(0, width-1-utf8.RuneCountInString(scale))), scale)
	for i, r := range rows {
		dur := seconds(r.Duration)
		if r.InProgress {
			dur = "…" + dur
		}
		st := status(r.Fault, r.Error, r.Throttle)
		if st == "ok" {
			st = ""
		}
		fmt.Fprintf(w, "%s  %9s  %-8s  |%s|\n", pad(labels[i], lw), dur, st, bar(r, total, width))
	}
}

// bar is one row's bar: at least one cell, so that instant calls show.
func bar(r row, total float64, width int) string {
	if total <= 0 {
		total = 1
	}
	from := int(math.Floor(r.Offset / total * float64(width)))
	to := int(math.Ceil((r.Offset + r.Duration) / total * float64(width)))
	from = min(max(from, 0), width-1)
	to = min(max(to, from+1), width)
	fill := "█"
	if r.InProgress {
		fill = "░"
	}
	return strings.Repeat(" ", from) + strings.Repeat(fill, to-from) + strings.Repeat(" ", width-to)
}

func pad(s string, n int) string {
	return s + strings.Repeat(" ", max(0, n-utf8.RuneCountInString(s)))
}
