package main

import rego.v1

test_gold_without_autoscaling_warns if {
	count(warn_gold_autoscaling) == 1 with input as {"environment": "prod", "customer": {"tier": "gold"}, "values": {}}
}

test_gold_with_autoscaling_passes if {
	count(warn_gold_autoscaling) == 0 with input as {
		"environment": "prod",
		"customer": {"tier": "gold"},
		"values": {"autoscaling": {"enabled": true}},
	}
}

test_silver_without_autoscaling_passes if {
	count(warn_gold_autoscaling) == 0 with input as {"environment": "prod", "customer": {"tier": "silver"}, "values": {}}
}
