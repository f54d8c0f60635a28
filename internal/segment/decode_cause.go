package segment

// The `cause` member, for decodeFast. Cause.UnmarshalJSON decodes it with
// encoding/json, whose results for what the scanner accepts are goccy's:
// null leaves a scalar as it is, [] is an empty slice, escapes decode the
// same; strings are copies there, which equal views of Raw.

func (s *scanner) cause(p **Cause, depth int) bool {
	c := new(Cause)
	switch s.ws() {
	case '"':
		v, ok := s.str()
		c.ExceptionID = v
		*p = c
		return ok
	case '{':
	default:
		return false // null: goccy's answer is its own
	}
	s.i++
	var seen uint64
	k, done, ok := s.firstKey()
	for ; ok && !done; k, done, ok = s.nextKey() {
		switch string(k) {
		case "working_directory":
			ok = once(&seen, 0) && s.strField(&c.WorkingDirectory)
		case "paths":
			ok = once(&seen, 1) && s.strings(&c.Paths)
		case "exceptions":
			ok = once(&seen, 2) && s.exceptions(&c.Exceptions, depth+1)
		default:
			ok = unknownKey(k) && s.skip(depth+1)
		}
		if !ok {
			return false
		}
	}
	*p = c
	return ok
}

func (s *scanner) exceptions(p *[]Exception, depth int) bool {
	if s.ws() == 'n' {
		return s.literal("null")
	}
	if !s.openArray() {
		return false
	}
	out := []Exception{}
	done, ok := s.firstElem()
	for ; ok && !done; done, ok = s.nextElem() {
		out = append(out, Exception{})
		if !s.exception(&out[len(out)-1], depth+1) {
			return false
		}
	}
	*p = out
	return ok
}

func (s *scanner) exception(e *Exception, depth int) bool {
	if !s.open() {
		return false
	}
	var seen uint64
	k, done, ok := s.firstKey()
	for ; ok && !done; k, done, ok = s.nextKey() {
		switch string(k) {
		case "id":
			ok = once(&seen, 0) && s.strField(&e.ID)
		case "message":
			ok = once(&seen, 1) && s.strField(&e.Message)
		case "type":
			ok = once(&seen, 2) && s.strField(&e.Type)
		case "remote":
			ok = once(&seen, 3) && s.boolField(&e.Remote)
		case "truncated":
			ok = once(&seen, 4) && s.intField(&e.Truncated)
		case "skipped":
			ok = once(&seen, 5) && s.intField(&e.Skipped)
		case "cause":
			ok = once(&seen, 6) && s.strField(&e.Cause)
		case "stack":
			ok = once(&seen, 7) && s.stack(&e.Stack, depth+1)
		default:
			ok = unknownKey(k) && s.skip(depth+1)
		}
		if !ok {
			return false
		}
	}
	return ok
}

func (s *scanner) stack(p *[]StackFrame, depth int) bool {
	if s.ws() == 'n' {
		return s.literal("null")
	}
	if !s.openArray() {
		return false
	}
	out := []StackFrame{}
	done, ok := s.firstElem()
	for ; ok && !done; done, ok = s.nextElem() {
		var f StackFrame
		if !s.open() {
			return false
		}
		var seen uint64
		k, done, ok := s.firstKey()
		for ; ok && !done; k, done, ok = s.nextKey() {
			switch string(k) {
			case "path":
				ok = once(&seen, 0) && s.strField(&f.Path)
			case "line":
				ok = once(&seen, 1) && s.intField(&f.Line)
			case "label":
				ok = once(&seen, 2) && s.strField(&f.Label)
			default:
				ok = unknownKey(k) && s.skip(depth+2)
			}
			if !ok {
				return false
			}
		}
		if !ok {
			return false
		}
		out = append(out, f)
	}
	*p = out
	return ok
}
