package filter

import (
	"encoding/json"

	"github.com/roentgen-tracing/roentgen/internal/trace"
)

// rcItem is one element a rootcause.<list>.<level> { ... } filter tests: a
// service of a root cause, an entity of a service's path, or an exception
// of an entity. first, last and index are its position (0-based) among its
// siblings: services of the root cause, entities of the path, exceptions of
// the entity.
type rcItem struct {
	svc   *trace.RootCauseService
	ent   *trace.RootCauseEntity    // entity and exception levels
	exc   *trace.RootCauseException // exception level
	index int
	count int
}

func rootCauseList(s *trace.Summary, l rcList) []trace.RootCause {
	switch l {
	case rcFault:
		return s.FaultRootCauses
	case rcError:
		return s.ErrorRootCauses
	}
	return s.ResponseTimeRootCauses
}

func (x *rootCauseNode) eval(s *trace.Summary) bool {
	test := func(it *rcItem) bool { return x.body == nil || eval(x.body, &env{s: s, rc: it}) }
	for _, rc := range rootCauseList(s, x.list) {
		for i := range rc.Services {
			svc := &rc.Services[i]
			if x.level == rcService {
				if test(&rcItem{svc: svc, index: i, count: len(rc.Services)}) {
					return true
				}
				continue
			}
			for j := range svc.EntityPath {
				ent := &svc.EntityPath[j]
				if x.level == rcEntity {
					if test(&rcItem{svc: svc, ent: ent, index: j, count: len(svc.EntityPath)}) {
						return true
					}
					continue
				}
				for k := range ent.Exceptions {
					if test(&rcItem{svc: svc, ent: ent, exc: &ent.Exceptions[k], index: k, count: len(ent.Exceptions)}) {
						return true
					}
				}
			}
		}
	}
	return false
}

// lastEntity is the deepest entity of a service's path: where the cause is.
func lastEntity(svc *trace.RootCauseService) *trace.RootCauseEntity {
	if len(svc.EntityPath) == 0 {
		return nil
	}
	return &svc.EntityPath[len(svc.EntityPath)-1]
}

func (it *rcItem) boolOf(k keyword) (bool, bool) {
	switch k {
	case kwFirst:
		return it.index == 0, true
	case kwLast:
		return it.index == it.count-1, true
	case kwInferred:
		return it.svc.Inferred, true
	case kwRemote:
		ent := it.ent
		if ent == nil {
			ent = lastEntity(it.svc)
		}
		return ent != nil && ent.Remote, true
	}
	return false, false
}

func (it *rcItem) numberOf(k keyword) (float64, bool) {
	switch k {
	case kwIndex:
		return float64(it.index), true
	case kwCoverage:
		ent := it.ent
		if ent == nil && len(it.svc.EntityPath) > 0 {
			// A service's coverage is that of its own segment, the path's head.
			ent = &it.svc.EntityPath[0]
		}
		if ent == nil || ent.Coverage == nil {
			return 0, false
		}
		return *ent.Coverage, true
	}
	return 0, false
}

func (it *rcItem) stringsOf(k keyword) []string {
	switch k {
	case kwName:
		switch {
		case it.exc != nil:
			return []string{it.exc.Name}
		case it.ent != nil:
			return []string{it.ent.Name}
		}
		return append([]string{it.svc.Name}, it.svc.Names...)
	case kwType:
		return []string{it.svc.Type}
	case kwMessage:
		if it.exc != nil {
			return []string{it.exc.Message}
		}
		var out []string
		ents := it.svc.EntityPath
		if it.ent != nil {
			ents = []trace.RootCauseEntity{*it.ent}
		}
		for _, e := range ents {
			for _, x := range e.Exceptions {
				out = append(out, x.Message)
			}
		}
		return out
	}
	return nil
}

// rootcause.json = #[p1, p2, ...]: every pattern matches some root cause
// of any of the three lists. A pattern matches partially: every member it
// names must match, members it omits are wildcards; arrays match element
// by element and must have the same length.
func (x *rootCauseJSONNode) eval(s *trace.Summary) bool {
	var all []any
	for _, l := range [][]trace.RootCause{s.FaultRootCauses, s.ErrorRootCauses, s.ResponseTimeRootCauses} {
		for _, rc := range l {
			b, err := json.Marshal(rc)
			if err != nil {
				continue
			}
			var v any
			if json.Unmarshal(b, &v) == nil {
				all = append(all, v)
			}
		}
	}
	if len(all) == 0 {
		return false
	}
	for _, p := range x.patterns {
		found := false
		for _, v := range all {
			if jsonMatch(p, v) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func jsonMatch(pat, v any) bool {
	switch p := pat.(type) {
	case map[string]any:
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		for k, pv := range p {
			mv, ok := m[k]
			if !ok {
				// An omitted false/empty member of the stored shape.
				if pv == false || pv == nil {
					continue
				}
				return false
			}
			if !jsonMatch(pv, mv) {
				return false
			}
		}
		return true
	case []any:
		a, ok := v.([]any)
		if !ok || len(a) != len(p) {
			return false
		}
		for i := range p {
			if !jsonMatch(p[i], a[i]) {
				return false
			}
		}
		return true
	}
	return pat == v
}
