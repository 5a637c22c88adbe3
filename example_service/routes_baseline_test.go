package main

// This file is the only one in the package that imports the baselines package. A copy of
// the service made outside this module (as perfgate's own tests do) can leave it out.

import (
	"testing"

	"github.com/perfgate/perfgate/baselines"
)

// baselineTarget is the perfgate target whose baseline covers this service.
const baselineTarget = "example_service"

// TestEveryRouteHasBaseline fails when a route has no committed baseline entry, so a new
// handler cannot land unmeasured. perfgate's perf runs use -run '^TestPerf…$' and never run
// this test, so 'perfgate baseline update' can measure the new route.
func TestEveryRouteHasBaseline(t *testing.T) {
	b, err := baselines.Load(baselineTarget)
	if err != nil {
		t.Fatalf("loading the %s baseline: %v", baselineTarget, err)
	}
	routes := map[string]bool{}
	for _, r := range Routes() {
		routes[r] = true
		if _, ok := b.Handler(r); !ok {
			t.Errorf("route %q has no baseline in baselines/%s.json: run 'perfgate baseline update' to measure it", r, baselineTarget)
		}
	}
	for _, name := range b.Names() {
		if !routes[name] {
			t.Logf("baselines/%s.json has an entry for %q, which is no longer a route", baselineTarget, name)
		}
	}
}
