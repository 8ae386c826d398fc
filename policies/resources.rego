# Production sets cpu and memory requests and a memory limit.
package main

import rego.v1

required_resources := [["requests", "cpu"], ["requests", "memory"], ["limits", "memory"]]

deny_prod_resources contains result if {
	input.environment == "prod"
	some pair in required_resources
	not input.values.resources[pair[0]][pair[1]]
	result := {
		"msg": sprintf("production must set resources.%s.%s", [pair[0], pair[1]]),
		"path": ["resources", pair[0], pair[1]],
	}
}
