package main

import rego.v1

test_latest_is_denied if {
	count(deny_image_tag) == 1 with input as {"values": {"image": {"repository": "r", "tag": "latest"}}}
}

test_missing_tag_is_the_charts_app_version if {
	count(deny_image_tag) == 0 with input as {"values": {"image": {"repository": "r"}}}
}

test_latest_in_a_nested_workload_is_denied if {
	count(deny_image_tag) == 1 with input as {"values": {"primary": {"resources": {}, "image": {"tag": "latest"}}}}
}

test_pinned_tag_passes if {
	count(deny_image_tag) == 0 with input as {"values": {"image": {"repository": "r", "tag": "1.2.3"}}}
}

test_no_image_block_passes if {
	count(deny_image_tag) == 0 with input as {"values": {}}
}
