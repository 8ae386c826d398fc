"""ArgoCD's template rendering tests (argoproj/argo-cd v3.5.1, `applicationset/utils/utils_test.go`),
ported: each case names its upstream test function and case. Expected outputs are upstream's;
where upstream expects an error, the test expects TemplateError (ArgoCD fails the generation).
Then Go text/template and sprig behaviour real ApplicationSets rely on, each stated as Go
documents or implements it."""

from __future__ import annotations

import pytest

from checks.engines.gotemplate import MISSING_ERROR, MissingKey, NotEvaluated, TemplateError, render, render_legacy
from checks.engines.sprig import slugify

HPA = {"replicas": 3, "hpa": {"enabled": True, "minReplicas": 1, "maxReplicas": 5}}
IMAGE = {"replicas": 3, "image": {"name": "busybox", "version": "latest"}}


# utils_test.go TestRenderTemplateParams (fasttemplate)
@pytest.mark.parametrize(("name", "template", "params", "expected"), [
    ("simple substitution", "{{one}}", {"one": "two"}, "two"),
    ("simple substitution with whitespace", "{{ one }}", {"one": "two"}, "two"),
    ("template characters but not in a template", "}} {{", {"one": "two"}, "}} {{"),
    ("nested template", "{{ }}", {"one": "{{ }}"}, "{{ }}"),
    ("field with whitespace", "{{ }}", {" ": "two", "": "three"}, "{{ }}"),
    ("template contains itself, containing itself", "{{one}}", {"{{one}}": "{{one}}"}, "{{one}}"),
    ("template contains itself, containing something else", "{{one}}", {"{{one}}": "{{two}}"}, "{{one}}"),
    ("templates are case sensitive", "{{ONE}}", {"{{one}}": "two"}, "{{ONE}}"),
    ("multiple on a line", "{{one}}{{one}}", {"one": "two"}, "twotwo"),
    ("multiple different on a line", "{{one}}{{three}}", {"one": "two", "three": "four"}, "twofour"),
    ("multiple different on a line with quote", "{{one}} {{three}}", {"one": '"hello" world', "three": "four"},
     '"hello" world four'),
])
def test_render_template_params_fasttemplate(name, template, params, expected):
    assert render_legacy(template, params) == expected


def test_fasttemplate_unknown_key_is_left_verbatim():
    # utils.go Replace: a tag with no string parameter is written back as it was (issue 16, divergence 5)
    assert render_legacy("{{cluster}}-{{tier}}", {"cluster": "a"}) == "a-{{tier}}"


def test_fasttemplate_missing_closing_brace_is_an_error():
    # utils_test.go Test_Render_Replace_no_panic_on_missing_closing_brace
    with pytest.raises(TemplateError):
        render_legacy("{{properly.closed}} {{improperly.closed}", {})


# utils_test.go TestRenderTemplateParamsGoTemplate
@pytest.mark.parametrize(("name", "template", "params", "expected"), [
    ("simple substitution", "{{ .one }}", {"one": "two"}, "two"),
    ("template contains itself, containing itself", "{{ .one }}", {"one": "{{one}}"}, "{{one}}"),
    ("template contains itself, containing something else", "{{ .one }}", {"one": "{{two}}"}, "{{two}}"),
    ("multiple on a line", "{{.one}}{{.one}}", {"one": "two"}, "twotwo"),
    ("multiple different on a line", "{{.one}}{{.three}}", {"one": "two", "three": "four"}, "twofour"),
    ("multiple different on a line with quote", "{{.one}} {{.three}}", {"one": '"hello" world', "three": "four"},
     '"hello" world four'),
    ("depth", "{{ .image.version }}", IMAGE, "latest"),
    ("multiple depth", "{{ .image.name }}:{{ .image.version }}", IMAGE, "busybox:latest"),
    ("if ok", "{{ if .hpa.enabled }}{{ .hpa.maxReplicas }}{{ else }}{{ .replicas }}{{ end }}", HPA, "5"),
    ("if not ok", "{{ if .hpa.enabled }}{{ .hpa.maxReplicas }}{{ else }}{{ .replicas }}{{ end }}",
     {**HPA, "hpa": {**HPA["hpa"], "enabled": False}}, "3"),
    ("loop", "{{ range .volumes }}[{{ .name }}]{{ end }}",
     {"replicas": 3, "volumes": [{"name": "volume-one", "emptyDir": {}}, {"name": "volume-two", "emptyDir": {}}]},
     "[volume-one][volume-two]"),
    ("Index", '{{ index .admin "admin-ca" }}, {{ index .admin "admin-jks" }}',
     {"admin": {"admin-ca": "value admin ca", "admin-jks": "value admin jks"}}, "value admin ca, value admin jks"),
    ("Index (escapes)", '{{ index .admin "admin-ca" }}, \\\\ "Hello world", {{ index .admin "admin-jks" }}',
     {"admin": {"admin-ca": 'value "admin" ca with \\', "admin-jks": "value admin jks"}},
     'value "admin" ca with \\, \\\\ "Hello world", value admin jks'),
    ("quote", "{{.quote}}", {"quote": '"'}, '"'),
    ("lookup missing value with missingkey=default", "--> {{.doesnotexist}} <--", {"unused": "x"},
     "--> <no value> <--"),
    ("toYaml", "{{ toYaml . | indent 2 }}", {"foo": {"bar": {"bool": True, "number": 2, "str": "Hello world"}}},
     "  foo:\n    bar:\n      bool: true\n      number: 2\n      str: Hello world"),
    ("fromYaml", '{{ get (fromYaml .value) "hello" }}', {"value": "hello: world"}, "world"),
    ("fromYamlArray", "{{ fromYamlArray .value | last }}", {"value": "- hello world\n- bonjour tout le monde"},
     "bonjour tout le monde"),
])
def test_render_template_params_go_template(name, template, params, expected):
    assert render(template, params) == expected


@pytest.mark.parametrize(("name", "template", "params", "options"), [
    ("Test Parse Error", "{{functiondoesnotexist}}", {"data": "a data string"}, False),
    ("Test template error", "{{.data.test}}", {"data": "a data string"}, False),
    ("lookup missing value with missingkey=error", "--> {{.doesnotexist}} <--", {"unused": "x"}, True),
    ("fromYaml error", '{{ get (fromYaml .value) "hello" }}', {"value": "non\n compliant\n yaml"}, False),
    ("fromYamlArray error", "{{ fromYamlArray .value | last }}", {"value": "non\n compliant\n yaml"}, False),
])
def test_render_template_params_go_template_errors(name, template, params, options):
    with pytest.raises(TemplateError):
        render(template, params, MISSING_ERROR if options else False)


def test_missingkey_error_names_the_key():
    with pytest.raises(MissingKey, match="doesnotexist"):
        render("{{ .doesnotexist }}", {"a": "b"}, MISSING_ERROR)


# utils_test.go TestSlugify
@pytest.mark.parametrize(("branch", "smart", "length", "expected"), [
    ("feat/a_really+long_pull_request_name_to_test_argo_slugification_and_branch_name_shortening_feature",
     False, 50, "feat-a-really-long-pull-request-name-to-test-argo"),
    ("feat/a_really+long_pull_request_name_to_test_argo_slugification_and_branch_name_shortening_feature",
     True, 53, "feat-a-really-long-pull-request-name-to-test-argo"),
    ("feat/areallylongpullrequestnametotestargoslugificationandbranchnameshorteningfeature",
     True, 50, "feat"),
    ("feat/areallylongpullrequestnametotestargoslugificationandbranchnameshorteningfeature",
     False, 50, "feat-areallylongpullrequestnametotestargoslugifica"),
])
def test_slugify(branch, smart, length, expected):
    assert slugify(length, smart, branch) == expected
    # from a template: literals are Go ints and bools (a parameter would be float64, which slugify rejects)
    assert render(f"{{{{ slugify {length} {str(smart).lower()} .b }}}}", {"b": branch}) == expected


# Go text/template and sprig as real ApplicationSets use them (issue 16, divergence 7)
P = {"name": "Acme_Corp.", "env": "prod", "segs": ["customers", "acme", "billing"], "n": 3,
     "cfg": {"a": {"b": "deep"}}, "tags": ["x", "y"], "empty": "", "yaml": "k: v\nl: [1, 2]\n"}


@pytest.mark.parametrize(("template", "expected"), [
    ("{{ if eq .env \"prod\" }}manual{{ else if eq .env \"dev\" }}auto{{ else }}?{{ end }}", "manual"),
    ("{{ with .cfg.a }}{{ .b }}-{{ $.env }}{{ end }}", "deep-prod"),
    ("{{ with .missing }}x{{ else }}none{{ end }}", "none"),
    ("{{ range $i, $s := .segs }}{{ if $i }}/{{ end }}{{ $s }}{{ end }}", "customers/acme/billing"),
    ("{{ range .segs }}{{ if eq . \"acme\" }}{{ break }}{{ end }}{{ . }};{{ end }}", "customers;"),
    ("{{ range .nothing }}x{{ else }}empty{{ end }}", "empty"),
    ("{{- /* a comment */ -}}  {{ .env }}", "prod"),
    ("a  {{- .env -}}  b", "aprodb"),
    ("{{ $x := .env }}{{ $x = upper $x }}{{ $x }}", "PROD"),
    ("{{ .tags | toJson | nindent 2 }}", "\n  [\"x\",\"y\"]"),
    ("{{ get .cfg.a \"b\" }}|{{ get .cfg.a \"zz\" }}|", "deep||"),
    ("{{ dig \"a\" \"b\" \"dflt\" .cfg }} {{ dig \"a\" \"x\" \"dflt\" .cfg }}", "deep dflt"),
    ("{{ base \"customers/acme/billing/values.yaml\" }} {{ dir \"a/b/c\" }} {{ ext \"x.tar.gz\" }}",
     "values.yaml a/b .gz"),
    ("{{ last .segs }} {{ first .segs }} {{ len .segs }}", "billing customers 3"),
    ("{{ normalize .name }}", "acme-corp"),
    ("{{ (fromYaml .yaml).k }} {{ index (fromYaml .yaml).l 1 }}", "v 2"),
    ("{{ toYaml .cfg }}", "a:\n  b: deep"),
    ("{{ default \"dflt\" .empty }} {{ .empty | default \"d2\" }} {{ coalesce .missing .empty \"c\" }}", "dflt d2 c"),
    ("{{ printf \"%s-%03d-%v\" .env 7 .n }}", "prod-007-3"),
    ("{{ .n }} {{ add .n 1 }} {{ mul .n 2 }} {{ div 7 2 }}", "3 4 6 3"),
    ("{{ trunc 3 .env }} {{ trimSuffix \"d\" .env }} {{ replace \"o\" \"0\" .env }} {{ .env | quote }}",
     "pro pro pr0d \"prod\""),
    ("{{ splitList \"/\" \"a/b/c\" | join \"-\" }} {{ list 1 2 | toJson }} {{ dict \"k\" 1 | toJson }}",
     "a-b-c [1,2] {\"k\":1}"),
    ("{{ regexReplaceAll \"[^a-z]+\" .name \"-\" }} {{ regexMatch \"^cust\" (index .segs 0) }}", "-cme-orp- true"),
    ("{{ ternary \"y\" \"n\" (hasPrefix \"pr\" .env) }} {{ contains \"ro\" .env }} {{ has \"y\" .tags }}",
     "y true true"),
    ("{{ and .env .n }} {{ or .empty \"fallback\" }} {{ not .empty }}", "3 fallback true"),
    ("{{ .big }}", "1e+06"),
])
def test_go_template_and_sprig(template, expected):
    assert render(template, {**P, "big": 1000000}) == expected


@pytest.mark.parametrize("template", [
    "{{ if .env }}",  # unclosed if
    "{{ end }}",
    "{{ .env | 3 }}",  # non executable command in a pipeline
    "{{ $undefined }}",
    "{{ index .env \"x\" }}",  # indexing into a string with a key
    "{{ index .segs 9 }}",
    "{{ eq .n 3 }}",  # .n is float64 in ArgoCD, 3 an int: incompatible types
    "{{ upper .n }}",  # a float64 where sprig wants a string
    "{{ fail \"no\" }}",
    "{{ .env.x }}",
    "{{ div 1 0 }}",
])
def test_go_template_errors(template):
    with pytest.raises(TemplateError):
        render(template, P)


@pytest.mark.parametrize("template", ["{{ now }}", "{{ randAlpha 5 }}", "{{ uuidv4 }}",
                                      "{{ semverCompare \">1\" \"2\" }}", "{{ define \"x\" }}y{{ end }}"])
def test_not_emulated_is_named(template):
    with pytest.raises(NotEvaluated) as info:
        render(template, P)
    assert any(word in str(info.value) for word in ("now", "randAlpha", "uuidv4", "semverCompare", "define"))
