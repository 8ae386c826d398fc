# No debug logging in production: it is slow, noisy and may print personal data.
package main

import rego.v1

warn_prod_debug_logging contains result if {
	input.environment == "prod"
	lower(sprintf("%v", [input.values.logLevel])) in {"debug", "trace"}
	result := {"msg": sprintf("production logs at level %v", [input.values.logLevel]), "path": ["logLevel"]}
}
