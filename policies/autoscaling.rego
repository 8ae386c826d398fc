# Gold-tier customers autoscale in production.
package main

import rego.v1

warn_gold_autoscaling contains result if {
	input.environment == "prod"
	input.customer.tier == "gold"
	not input.values.autoscaling.enabled
	result := {"msg": "gold-tier customers autoscale in production: set autoscaling.enabled", "path": ["autoscaling"]}
}
