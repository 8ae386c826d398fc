package main

import rego.v1

test_prod_with_one_replica_is_denied if {
	count(deny_prod_replicas) == 1 with input as {"environment": "prod", "values": {"replicaCount": 1}}
}

test_prod_without_replica_count_is_denied if {
	count(deny_prod_replicas) == 1 with input as {"environment": "prod", "values": {}}
}

test_prod_with_two_replicas_passes if {
	count(deny_prod_replicas) == 0 with input as {"environment": "prod", "values": {"replicaCount": 2}}
}

test_autoscaling_with_two_minimum_passes if {
	count(deny_prod_replicas) == 0 with input as {
		"environment": "prod",
		"values": {"replicaCount": 1, "autoscaling": {"enabled": true, "minReplicas": 2}},
	}
}

test_dev_with_one_replica_passes if {
	count(deny_prod_replicas) == 0 with input as {"environment": "dev", "values": {"replicaCount": 1}}
}
