package filter

// The syntax tree. Nodes are evaluated by eval.go and narrowed to index
// terms by terms.go.

type node interface{}

type andNode struct{ xs []node }

type orNode struct{ xs []node }

type notNode struct{ x node }

// predNode is one keyword test: bare (op == ""), or compared to a value.
type predNode struct {
	key    keyword
	annKey string // annotation key, for kwAnnotation
	op     string // "", =, !=, <, <=, >, >=, contains, beginswith, endswith
	vtype  vtype  // the value's type (for annotations: decides the test)
	str    string
	num    float64
	b      bool
}

// nodeRef selects service-graph nodes; empty fields match anything.
type nodeRef struct {
	name, typ, account           string
	hasName, hasType, hasAccount bool
}

// serviceNode is service(ref) { body }; ref nil means any node, body nil
// means the node only has to be present.
type serviceNode struct {
	ref  *nodeRef
	body node
}

// edgeNode is edge(from, to) { body }.
type edgeNode struct {
	from, to nodeRef
	body     node
}

// rcList names one of the summary's root-cause lists.
type rcList int

const (
	rcFault rcList = iota
	rcError
	rcResponseTime
)

// rcLevel is what a rootcause filter enumerates.
type rcLevel int

const (
	rcService rcLevel = iota
	rcEntity
	rcException
)

// rootCauseNode is rootcause.<list>.<level> { body }.
type rootCauseNode struct {
	list  rcList
	level rcLevel
	body  node
}

// rootCauseJSONNode is rootcause.json = #[ ... ]: each pattern element must
// partially match some root cause of the trace.
type rootCauseJSONNode struct{ patterns []any }
