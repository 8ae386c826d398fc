package main

import rego.v1

test_foreign_host_is_denied if {
	count(deny_ingress_host) == 1 with input as {
		"customer": {"domains": ["acme.example.com"]},
		"values": {"ingress": {"hosts": [{"host": "billing.acme.example.com"}, {"host": "billing.globex.example.com"}]}},
	}
}

test_lookalike_suffix_is_denied if {
	count(deny_ingress_host) == 1 with input as {
		"customer": {"domains": ["acme.example.com"]},
		"values": {"ingress": {"hosts": [{"host": "evilacme.example.com"}]}},
	}
}

test_own_hosts_pass if {
	count(deny_ingress_host) == 0 with input as {
		"customer": {"domains": ["acme.example.com"]},
		"values": {"ingress": {"hosts": [{"host": "acme.example.com"}, {"host": "a.b.acme.example.com"}]}},
	}
}

test_no_declared_domains_pass if {
	count(deny_ingress_host) == 0 with input as {
		"customer": {},
		"values": {"ingress": {"hosts": [{"host": "anything.example.org"}]}},
	}
}

test_a_host_that_is_not_text_is_denied_not_an_error if {
	count(deny_ingress_host) == 2 with input as {
		"customer": {"domains": ["acme.example.com"]},
		"values": {"ingress": {"hosts": [{"host": null}, {"host": 8080}, {"host": "acme.example.com"}]}},
	}
}
