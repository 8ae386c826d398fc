# Images carry an explicit tag that is not `latest`.
package main

import rego.v1

deny_image_tag contains result if {
	is_object(input.values.image)
	not input.values.image.tag
	result := {"msg": "image has no tag: the chart's default or `latest` would be deployed", "path": ["image"]}
}

deny_image_tag contains result if {
	tag := input.values.image.tag
	lower(trim_space(sprintf("%v", [tag]))) == "latest"
	result := {"msg": "image tag `latest` is not reproducible; pin a version", "path": ["image", "tag"]}
}
