package header

import (
	"strings"
	"testing"
)

func TestFromStringAndBack(t *testing.T) {
	h := FromString(" Root=1-5759e988-bd862e3fe1be46a994272793 ; Parent=53995c3f42cd8ad8;Sampled=1;Self=1-abc;Lineage=a87bd80c:1|68fd508a:5")
	if h.TraceID != "1-5759e988-bd862e3fe1be46a994272793" || h.ParentID != "53995c3f42cd8ad8" || h.SamplingDecision != Sampled {
		t.Fatalf("parsed %+v", h)
	}
	if _, ok := h.AdditionalData["Self"]; ok || h.AdditionalData["Lineage"] != "a87bd80c:1|68fd508a:5" {
		t.Errorf("additional data = %v", h.AdditionalData)
	}
	if got := h.String(); got != "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a87bd80c:1|68fd508a:5" {
		t.Errorf("String() = %q", got)
	}
	for in, want := range map[string]SamplingDecision{"Sampled=0": NotSampled, "Sampled=?": Requested, "Sampled=x": Unknown, "": Unknown} {
		if got := FromString(in).SamplingDecision; got != want {
			t.Errorf("%q: decision %q, want %q", in, got, want)
		}
	}
	if h := FromString("garbage;=;Root=;;"); h.TraceID != "" || len(h.AdditionalData) != 0 {
		t.Errorf("garbage parsed as %+v", h)
	}
}

func TestFromTraceparent(t *testing.T) {
	h, ok := FromTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	if !ok || h.TraceID != "1-4bf92f35-77b34da6a3ce929d0e0e4736" || h.ParentID != "00f067aa0ba902b7" || h.SamplingDecision != Sampled {
		t.Fatalf("parsed %+v %v", h, ok)
	}
	if h, _ := FromTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"); h.SamplingDecision != NotSampled {
		t.Error("flags 00 read as sampled")
	}
	for _, bad := range []string{
		"", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
		"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
	} {
		if _, ok := FromTraceparent(bad); ok {
			t.Errorf("accepted %q", bad)
		}
	}
	if _, ok := FromTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future"); !ok {
		t.Error("a later version with extra fields was refused")
	}
}

func FuzzFromString(f *testing.F) {
	f.Add("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=x")
	f.Add(";;==;Sampled=?")
	f.Fuzz(func(t *testing.T, s string) {
		h := FromString(s)
		again := FromString(h.String())
		if again.TraceID != h.TraceID || again.ParentID != h.ParentID || again.SamplingDecision != h.SamplingDecision {
			if !strings.ContainsAny(s, ";= \t") {
				t.Errorf("round trip of %q: %+v then %+v", s, h, again)
			}
		}
	})
}

func FuzzFromTraceparent(f *testing.F) {
	f.Add("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	f.Fuzz(func(t *testing.T, s string) {
		h, ok := FromTraceparent(s)
		if ok && (len(h.TraceID) != 35 || len(h.ParentID) != 16) {
			t.Errorf("%q gave %+v", s, h)
		}
	})
}
