package main

import rego.v1

test_debug_in_prod_warns if {
	count(warn_prod_debug_logging) == 1 with input as {"environment": "prod", "values": {"logLevel": "debug"}}
}

test_debug_in_dev_passes if {
	count(warn_prod_debug_logging) == 0 with input as {"environment": "dev", "values": {"logLevel": "debug"}}
}

test_warn_in_prod_passes if {
	count(warn_prod_debug_logging) == 0 with input as {"environment": "prod", "values": {"logLevel": "warn"}}
}
