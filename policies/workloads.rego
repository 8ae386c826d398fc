# Where a chart keeps its workloads, shared by the starter policies.
#
# Real charts do not keep one workload at the top: Bitnami puts them under `primary`,
# `readReplicas`, `master`, `replica`; prometheus under `server`; Traefik counts replicas in
# `deployment.replicas`. A workload-like map is any map (not a list item, not under `global`)
# holding `replicaCount`, `replicas`, `resources` or `resourcesPreset`, unless it or a parent is
# switched off (`enabled: false`, or a Bitnami replica set under `architecture: standalone`).
# A product that knows better declares its workloads in the settings
# (`policies: {workloads: {PRODUCT: [primary, readReplicas]}}`): then only those are checked.
package main

import rego.v1

workload_keys := {"replicaCount", "replicas", "resources", "resourcesPreset"}

# Bitnami's replica sets exist only under `architecture: replication`
standalone_off := {"readReplicas", "replica", "secondary", "arbiter", "hidden"}

declared_workloads := object.get(input, "workloads", [])

# gitops-checks gives the workload paths with the input (`input.workload_paths`: the candidates
# below less those switched off, found in the same pass in Python): rules and functions cost
# Regorus microseconds each, per unit. Without them (conftest run by hand, the policy tests, a
# product with declared workloads) they are found here.
workload_paths contains path if {
	some path in input.workload_paths
}

workload_paths contains path if {
	not input.workload_paths
	count(declared_workloads) == 0
	some path in workload_candidates
	not switched_off(path)
}

# The workload-like maps before switches: gitops-checks computes them with the input
# (`input.workload_candidates`, the same maps found in one pass in Python: walk() visiting every
# value of every unit was half the policies' time); found here when the input lacks them
# (conftest run by hand, the policy tests).
workload_candidates contains path if {
	some path in input.workload_candidates
}

workload_candidates contains path if {
	not input.workload_candidates
	walk(input.values, [path, node])
	is_object(node)
	some key in object.keys(node)
	key in workload_keys
	every step in path { is_string(step) }
	not under_global(path)
}

workload_paths contains path if {
	not input.workload_paths
	some path in declared_workloads
	not switched_off(path)
}

under_global(path) if path[0] == "global"

switched_off(path) if {
	some i in numbers.range(0, count(path))
	object.get(input.values, array.concat(array.slice(path, 0, i), ["enabled"]), true) == false
}

switched_off(path) if {
	input.values.architecture == "standalone"
	path[0] in standalone_off
}

# "primary.resources" for a nested workload, "resources" at the top
dotted(path, leaf) := concat(".", array.concat(path, leaf))

node_at(path) := object.get(input.values, path, {})
