# Production runs at least two replicas, unless autoscaling guarantees it.
# Checked wherever the chart counts replicas (`replicaCount` or `replicas` of each workload,
# see workloads.rego); a chart with no workload shape at all is read at the top, default 1.
package main

import rego.v1

autoscaled(node) if {
	node.autoscaling.enabled == true
	node.autoscaling.minReplicas >= 2
}

autoscaled(node) if {
	node.autoscaling.hpa.enabled == true
	node.autoscaling.hpa.minReplicas >= 2
}

# the workload's own autoscaling, or the chart's top-level one (Traefik: deployment.replicas + autoscaling)
replicas_guaranteed(path) if autoscaled(node_at(path))

replicas_guaranteed(_) if autoscaled(input.values)

replica_counts contains [path, key] if {
	some path in workload_paths
	node := node_at(path)
	some key in ["replicaCount", "replicas"]
	is_number(node[key])
}

deny_prod_replicas contains result if {
	input.environment == "prod"
	some [path, key] in replica_counts
	replicas := node_at(path)[key]
	replicas < 2
	not replicas_guaranteed(path)
	where := dotted(path, [key])
	result := {
		"msg": sprintf("production runs %v replica(s) (%s); at least 2 are needed (or autoscaling with minReplicas >= 2)", [replicas, where]),
		"path": array.concat(path, [key]),
	}
}

# no workload shape known: the chart's single replica count at the top, default 1
deny_prod_replicas contains result if {
	input.environment == "prod"
	count(workload_paths) == 0
	not replicas_guaranteed([])
	replicas := object.get(input.values, "replicaCount", 1)
	replicas < 2
	result := {
		"msg": sprintf("production runs %v replica(s); at least 2 are needed (or autoscaling with minReplicas >= 2)", [replicas]),
		"path": ["replicaCount"],
	}
}
