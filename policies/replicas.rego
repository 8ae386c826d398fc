# Production runs at least two replicas, unless autoscaling guarantees it.
package main

import rego.v1

replicas_guaranteed_by_autoscaling if {
	input.values.autoscaling.enabled == true
	input.values.autoscaling.minReplicas >= 2
}

deny_prod_replicas contains result if {
	input.environment == "prod"
	not replicas_guaranteed_by_autoscaling
	replicas := object.get(input.values, "replicaCount", 1)
	replicas < 2
	result := {
		"msg": sprintf("production runs %v replica(s); at least 2 are needed (or autoscaling with minReplicas >= 2)", [replicas]),
		"path": ["replicaCount"],
	}
}
