package main

import rego.v1

test_prod_without_resources_is_denied_three_times if {
	count(deny_prod_resources) == 3 with input as {"environment": "prod", "values": {}}
}

test_prod_without_memory_limit_is_denied if {
	count(deny_prod_resources) == 1 with input as {
		"environment": "prod",
		"values": {"resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}},
	}
}

test_prod_with_resources_passes if {
	count(deny_prod_resources) == 0 with input as {
		"environment": "prod",
		"values": {"resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "1Gi"}}},
	}
}

test_staging_without_resources_passes if {
	count(deny_prod_resources) == 0 with input as {"environment": "staging", "values": {}}
}

test_nested_workload_resources_are_checked_where_they_are if {
	denied := deny_prod_resources with input as {
		"environment": "prod",
		"values": {
			"image": {"tag": "1"},
			"primary": {"resources": {"requests": {"cpu": "1", "memory": "1Gi"}}},
			"readReplicas": {"resourcesPreset": "small"},
		},
	}
	count(denied) == 1
	some result in denied
	result.path == ["primary", "resources", "limits", "memory"]
}

test_switched_off_and_standalone_workloads_are_skipped if {
	count(deny_prod_resources) == 0 with input as {
		"environment": "prod",
		"values": {
			"architecture": "standalone",
			"primary": {"resourcesPreset": "nano"},
			"readReplicas": {"resources": {}},
			"metrics": {"enabled": false, "resources": {}},
		},
	}
}

test_declared_workloads_replace_the_heuristics if {
	denied := deny_prod_resources with input as {
		"environment": "prod",
		"workloads": [["master"]],
		"values": {"master": {"resources": {}}, "kubectl": {"resources": {}}},
	}
	count(denied) == 3
	every result in denied { result.path[0] == "master" }
}
