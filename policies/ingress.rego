# Ingress hosts belong to the customer's domains when metadata.yaml declares them.
package main

import rego.v1

host_in_customer_domains(host) if {
	some domain in input.customer.domains
	host == domain
}

host_in_customer_domains(host) if {
	is_string(host) # a null or numeric host is outside every domain (Regorus errors where OPA is undefined)
	some domain in input.customer.domains
	endswith(host, concat("", [".", domain]))
}

deny_ingress_host contains result if {
	count(object.get(input.customer, "domains", [])) > 0
	some i, entry in input.values.ingress.hosts
	not host_in_customer_domains(entry.host)
	result := {
		"msg": sprintf("ingress host %s is outside the customer's domains (%s)", [entry.host, concat(", ", input.customer.domains)]),
		"path": ["ingress", "hosts", i, "host"],
	}
}
