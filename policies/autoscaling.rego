# Gold-tier customers autoscale in production, where the chart can: any workload's
# `autoscaling` map (or Bitnami's `autoscaling.hpa`) enabled is enough. A chart with
# workloads but no `autoscaling` map cannot autoscale and is not asked to.
package main

import rego.v1

autoscaling_maps contains path if {
	some workload in workload_paths
	is_object(node_at(workload).autoscaling)
	path := array.concat(workload, ["autoscaling"])
}

autoscaling_maps contains ["autoscaling"] if is_object(input.values.autoscaling)

autoscaling_on if {
	some path in autoscaling_maps
	node := node_at(path)
	node.enabled == true
}

autoscaling_on if {
	some path in autoscaling_maps
	node := node_at(path)
	node.hpa.enabled == true
}

warn_gold_autoscaling contains result if {
	input.environment == "prod"
	input.customer.tier == "gold"
	count(autoscaling_maps) > 0
	not autoscaling_on
	some path in autoscaling_maps
	path == min(autoscaling_maps)
	result := {"msg": sprintf("gold-tier customers autoscale in production: set %s.enabled", [concat(".", path)]), "path": path}
}

# no workload shape known at all: ask at the top, as before
warn_gold_autoscaling contains result if {
	input.environment == "prod"
	input.customer.tier == "gold"
	count(workload_paths) == 0
	count(autoscaling_maps) == 0
	result := {"msg": "gold-tier customers autoscale in production: set autoscaling.enabled", "path": ["autoscaling"]}
}
