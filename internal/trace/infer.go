package trace

// infer adds the inferred nodes, segments and edges of downstream calls whose
// callee did not report its own segment (spec §6.1 step 4). Filled in by the
// service-graph work; until then only instrumented services are nodes.
func (b *builder) infer() {}

// rootCauses fills the fault, error and response-time root causes (§6.5).
// Filled in by the service-graph work.
func (b *builder) rootCauses() {}
