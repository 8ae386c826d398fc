# No image runs the `latest` tag: any workload's `image.tag` (see workloads.rego), and the top-level one.
# An image without a tag is not reported: by Helm's convention (`helm create`, cert-manager, Bitnami)
# an empty or missing tag is the chart's appVersion, pinned by the chart's version.
package main

import rego.v1

image_paths contains ["image"] if is_object(input.values.image)

image_paths contains path if {
	some workload in workload_paths
	is_object(node_at(workload).image)
	path := array.concat(workload, ["image"])
}

deny_image_tag contains result if {
	some workload in workload_paths | {[]} # the image_paths, without building them first
	image := object.get(input.values, workload, {}).image
	is_object(image)
	tag := image.tag
	is_string(tag) # any other value is no "latest" as text either
	lower(trim_space(tag)) == "latest"
	path := array.concat(workload, ["image"])
	result := {"msg": sprintf("image tag `latest` is not reproducible (%s.tag); pin a version", [concat(".", path)]), "path": array.concat(path, ["tag"])}
}
