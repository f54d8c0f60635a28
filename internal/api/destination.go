package api

import "context"

// GetTraceSegmentDestination and UpdateTraceSegmentDestination.
//
// On AWS, CloudWatchLogs sends spans to CloudWatch Logs (Transaction
// Search). Roentgen is its own store either way: the setting is kept and
// reported, every trace is stored whatever it says, and CloudWatchLogs
// puts the Default indexing rule in force for searches (indexing.go).

const (
	destinationKey            = "destination"
	destinationCloudWatchLogs = "CloudWatchLogs"
)

type destinationOut struct{ Destination, Status string }

func (s *Server) traceSegmentDestination(ctx context.Context) (string, error) {
	d := "XRay"
	_, err := s.getMetaJSON(ctx, metaAccount, destinationKey, &d)
	return d, err
}

func (s *Server) getTraceSegmentDestination(ctx context.Context, _ *struct{}) (any, error) {
	d, err := s.traceSegmentDestination(ctx)
	if err != nil {
		return nil, err
	}
	return destinationOut{d, "ACTIVE"}, nil
}

func (s *Server) updateTraceSegmentDestination(ctx context.Context, in *struct{ Destination *string }) (any, error) {
	if in.Destination == nil {
		return s.getTraceSegmentDestination(ctx, nil)
	}
	if d := *in.Destination; d != "XRay" && d != "CloudWatchLogs" {
		return nil, invalid("Destination must be XRay or CloudWatchLogs, not %q", d)
	}
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	if err := s.putMetaJSON(ctx, metaAccount, destinationKey, *in.Destination); err != nil {
		return nil, err
	}
	return destinationOut{*in.Destination, "ACTIVE"}, nil
}
