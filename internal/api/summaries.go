package api

import "github.com/roentgen-tracing/roentgen/internal/trace"

// The TraceSummary shape of the API (spec §3.3, §6.5).

type serviceID struct {
	Name      string   `json:"Name,omitempty"`
	Names     []string `json:"Names,omitempty"`
	AccountId string   `json:"AccountId,omitempty"`
	Type      string   `json:"Type,omitempty"`
}

type httpOut struct {
	HttpURL    string `json:"HttpURL,omitempty"`
	HttpStatus int    `json:"HttpStatus,omitempty"`
	HttpMethod string `json:"HttpMethod,omitempty"`
	UserAgent  string `json:"UserAgent,omitempty"`
	ClientIp   string `json:"ClientIp,omitempty"`
}

type annotationValue struct {
	NumberValue  *float64 `json:"NumberValue,omitempty"`
	BooleanValue *bool    `json:"BooleanValue,omitempty"`
	StringValue  *string  `json:"StringValue,omitempty"`
}

type valueWithServiceIDs struct {
	AnnotationValue annotationValue
	ServiceIds      []serviceID
}

type traceUser struct {
	UserName   string
	ServiceIds []serviceID
}

type traceSummaryOut struct {
	Id                     string
	StartTime              Timestamp
	Duration               float64
	ResponseTime           float64
	HasFault               bool
	HasError               bool
	HasThrottle            bool
	IsPartial              bool
	Http                   httpOut
	Annotations            map[string][]valueWithServiceIDs
	Users                  []traceUser
	ServiceIds             []serviceID
	ResourceARNs           []struct{ ARN string }
	InstanceIds            []struct{ Id string }
	AvailabilityZones      []struct{ Name string }
	EntryPoint             *serviceID `json:",omitempty"`
	FaultRootCauses        []trace.RootCause
	ErrorRootCauses        []trace.RootCause
	ResponseTimeRootCauses []trace.RootCause
	Revision               int
	MatchedEventTime       *Timestamp `json:",omitempty"`
}

func nodeServiceID(n trace.Node) serviceID {
	return serviceID{Name: n.Name, Names: n.Names, AccountId: n.AccountID, Type: n.Type}
}

func nodeIDs(s *trace.Summary, idx []int) []serviceID {
	out := []serviceID{}
	for _, i := range idx {
		if i >= 0 && i < len(s.Nodes) {
			out = append(out, nodeServiceID(s.Nodes[i]))
		}
	}
	return out
}

// summaryOutput renders a stored summary as the API's TraceSummary.
func summaryOutput(s *trace.Summary) traceSummaryOut {
	o := traceSummaryOut{
		Id:           s.TraceID,
		StartTime:    Timestamp(s.StartTime),
		Duration:     round6(s.Duration),
		ResponseTime: round6(s.ResponseTime),
		HasFault:     s.HasFault,
		HasError:     s.HasError,
		HasThrottle:  s.HasThrottle,
		IsPartial:    s.IsPartial,
		Http: httpOut{HttpURL: s.HTTP.URL, HttpStatus: s.HTTP.Status, HttpMethod: s.HTTP.Method,
			UserAgent: s.HTTP.UserAgent, ClientIp: s.HTTP.ClientIP},
		Annotations:            map[string][]valueWithServiceIDs{},
		Users:                  []traceUser{},
		ServiceIds:             []serviceID{},
		ResourceARNs:           []struct{ ARN string }{},
		InstanceIds:            []struct{ Id string }{},
		AvailabilityZones:      []struct{ Name string }{},
		FaultRootCauses:        nonNil(s.FaultRootCauses),
		ErrorRootCauses:        nonNil(s.ErrorRootCauses),
		ResponseTimeRootCauses: nonNil(s.ResponseTimeRootCauses),
		Revision:               s.Revision,
	}
	for _, a := range s.Annotations {
		var v annotationValue
		switch x := a.Value.(type) {
		case string:
			v.StringValue = &x
		case float64:
			v.NumberValue = &x
		case bool:
			v.BooleanValue = &x
		default:
			continue
		}
		o.Annotations[a.Key] = append(o.Annotations[a.Key], valueWithServiceIDs{AnnotationValue: v, ServiceIds: nodeIDs(s, a.Nodes)})
	}
	for _, u := range s.Users {
		o.Users = append(o.Users, traceUser{UserName: u.Name, ServiceIds: nodeIDs(s, u.Nodes)})
	}
	for _, n := range s.Nodes {
		o.ServiceIds = append(o.ServiceIds, nodeServiceID(n))
	}
	for _, v := range s.ResourceARNs {
		o.ResourceARNs = append(o.ResourceARNs, struct{ ARN string }{v})
	}
	for _, v := range s.InstanceIDs {
		o.InstanceIds = append(o.InstanceIds, struct{ Id string }{v})
	}
	for _, v := range s.AvailabilityZones {
		o.AvailabilityZones = append(o.AvailabilityZones, struct{ Name string }{v})
	}
	if s.EntryPoint >= 0 && s.EntryPoint < len(s.Nodes) {
		e := nodeServiceID(s.Nodes[s.EntryPoint])
		o.EntryPoint = &e
	}
	return o
}

func nonNil(r []trace.RootCause) []trace.RootCause {
	if r == nil {
		return []trace.RootCause{}
	}
	return r
}
