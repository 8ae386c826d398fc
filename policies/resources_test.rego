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
