package xray

import (
	"errors"
	"sync/atomic"

	"github.com/roentgen-tracing/roentgen/xray/xraylog"
)

// StreamingStrategy decides when subsegments are sent on their own.
type StreamingStrategy interface {
	RequiresStreaming(seg *Segment) bool
	StreamCompletedSubsegments(seg *Segment) [][]byte
}

// DefaultStreamingStrategy streams once a segment tree holds more than
// MaxSubsegmentCount subsegments (20, as aws-xray-sdk-go).
type DefaultStreamingStrategy struct {
	MaxSubsegmentCount uint32
}

// NewDefaultStreamingStrategy streams above 20 subsegments.
func NewDefaultStreamingStrategy() (*DefaultStreamingStrategy, error) {
	return &DefaultStreamingStrategy{MaxSubsegmentCount: 20}, nil
}

// NewDefaultStreamingStrategyWithMaxSubsegmentCount streams above n.
func NewDefaultStreamingStrategyWithMaxSubsegmentCount(n int) (*DefaultStreamingStrategy, error) {
	if n <= 0 {
		return nil, errors.New("maxSubsegmentCount must be a non-negative integer")
	}
	return &DefaultStreamingStrategy{MaxSubsegmentCount: uint32(n)}, nil
}

// RequiresStreaming reports whether seg's tree holds too many subsegments.
func (d *DefaultStreamingStrategy) RequiresStreaming(seg *Segment) bool {
	return seg.ParentSegment.Sampled && atomic.LoadUint32(&seg.ParentSegment.totalSubSegments) > d.MaxSubsegmentCount
}

// StreamCompletedSubsegments detaches seg's completed subsegments and
// returns their documents (without the datagram header).
func (d *DefaultStreamingStrategy) StreamCompletedSubsegments(seg *Segment) [][]byte {
	var out [][]byte
	keep := seg.rawSubsegments[:0]
	for _, c := range seg.rawSubsegments {
		c.Lock()
		if c.InProgress || c.openSegments > 0 {
			c.Unlock()
			keep = append(keep, c)
			continue
		}
		out = append(out, appendDoc(nil, c, docIndependent, seg.ID, true))
		c.Unlock()
		atomic.AddUint32(&seg.ParentSegment.totalSubSegments, ^uint32(0))
	}
	for i := len(keep); i < len(seg.rawSubsegments); i++ {
		seg.rawSubsegments[i] = nil
	}
	seg.rawSubsegments = keep
	return out
}

// pack turns seg (locked by the caller) into datagrams. Within the
// subsegment limit and one datagram it is one document; otherwise
// subsegments go out on their own (each packed the same way, so a subtree
// that is itself too big is split again) and the segment follows without
// them. A node whose own fields exceed a datagram loses its metadata rather
// than the whole document.
func pack(seg *Segment, out datagramSender) {
	kind, parentID := docRoot, ""
	if seg.parent != nil {
		kind, parentID = docIndependent, seg.ParentID
	}
	tooMany := false
	if ss := streamingStrategy(seg); ss != nil {
		if d, ok := ss.(*DefaultStreamingStrategy); ok {
			tooMany = d.RequiresStreaming(seg)
		} else if ss.RequiresStreaming(seg) {
			for _, doc := range ss.StreamCompletedSubsegments(seg) {
				bp := getBuf()
				*bp = append(*bp, doc...)
				out.send(bp)
			}
		}
	}
	packNode(seg, kind, parentID, tooMany, out)
}

func packNode(s *Segment, kind docKind, parentID string, split bool, out datagramSender) {
	if !split {
		bp := getBuf()
		*bp = appendDoc(*bp, s, kind, parentID, true)
		if len(*bp) <= maxDatagram {
			out.send(bp)
			return
		}
		putBuf(bp)
	}
	for _, c := range s.rawSubsegments {
		c.Lock()
		if !c.Dummy {
			packNode(c, docIndependent, s.ID, false, out)
		}
		c.Unlock()
	}
	bp := getBuf()
	*bp = appendDoc(*bp, s, kind, parentID, false)
	if len(*bp) > maxDatagram && len(s.Metadata) > 0 {
		md := s.Metadata
		s.Metadata = nil
		logf(xraylog.LogLevelWarn, "xray: %s %s: its metadata does not fit in one datagram; sent without it", s.Name, s.ID)
		(*bp) = appendDoc((*bp)[:len(Header)], s, kind, parentID, false)
		s.Metadata = md
	}
	if len(*bp) > maxDatagram {
		logf(xraylog.LogLevelError, "xray: %s %s is %d bytes on its own, more than one datagram; dropped", s.Name, s.ID, len(*bp))
		putBuf(bp)
		return
	}
	out.send(bp)
}

// datagramSender takes finished datagrams (an interface, not a func value,
// so that passing the emitter allocates nothing).
type datagramSender interface{ send(bp *[]byte) }

func streamingStrategy(seg *Segment) StreamingStrategy {
	if c := seg.ParentSegment.Configuration; c != nil && c.StreamingStrategy != nil {
		return c.StreamingStrategy
	}
	return loadState().cfg.StreamingStrategy
}
