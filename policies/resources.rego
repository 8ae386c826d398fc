# Production sets cpu and memory requests and a memory limit, for every workload that takes
# resources (a map with `resources` or `resourcesPreset`, see workloads.rego). A Bitnami
# `resourcesPreset` other than "none" sets all three. A chart with no such map at all is
# read at the top.
package main

import rego.v1

required_resources := [["requests", "cpu"], ["requests", "memory"], ["limits", "memory"]]

preset(node) if {
	is_string(node.resourcesPreset)
	node.resourcesPreset != "none"
	count(object.get(node, "resources", {})) == 0
}

resource_holders contains path if {
	some path in workload_paths
	node := node_at(path)
	some key in ["resources", "resourcesPreset"]
	node[key] != null
}

resource_workloads := resource_holders if {
	count(resource_holders) > 0
} else := {[]}

deny_prod_resources contains result if {
	input.environment == "prod"
	some path in resource_workloads
	node := node_at(path)
	not preset(node)
	some pair in required_resources
	not object.get(node, ["resources", pair[0], pair[1]], false)
	result := {
		"msg": sprintf("production must set %s", [dotted(path, ["resources", pair[0], pair[1]])]),
		"path": array.concat(path, ["resources", pair[0], pair[1]]),
	}
}
