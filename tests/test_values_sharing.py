"""What the effective values of many units share (model/values.py): the layers of the product-level
files (read once per revision, through the layer memo) and a chart's top level as coalescing reads
it (once per chart document and Helm version). On the example repositories (real files, read
through a DocumentStore as a run reads them): every unit's values, layers and conflicts equal to
those computed without any sharing, for Helm 3 and 4."""

from __future__ import annotations

from pathlib import Path

import pytest
from harness import context
from helpers import copy_examples, write_tree

from checks.model import values as values_module
from checks.model.platform import CONFIGS, INFRA
from checks.model.values import effective_values, unit_layers


def _signature(found):
    ev, errors = found
    if ev is None:
        return None, errors
    return (ev.values, [(layer.label, layer.repo, layer.path, layer.document_index) for layer in ev.layers],
            [(c.key_path, c.kept_layer, c.other_layer, c.message) for c in ev.conflicts])


@pytest.mark.parametrize("helm", [3, 4])
def test_shared_layers_and_chart_give_every_unit_what_it_gets_alone(tmp_path: Path, helm: int):
    configs, infra = copy_examples(tmp_path)
    # a chart default null (Helm 3 keeps it, Helm 4 leaves it out), and a type conflict for some units
    chart = infra / "products/billing/values.yaml"
    chart.write_text(chart.read_text() + "\npodAnnotations: null\nextraSecrets:\n  legacy: null\n  kept: yes\n")
    write_tree(configs, {"customers/acme-corp/billing/environments/prod.yaml": "resources: none\n"})
    with context(configs, infra) as ctx:
        units = ctx.units()
        assert len({u.product for u in units}) >= 3 and len(units) > 50
        memo: dict = {}
        shared = [_signature(effective_values(ctx.store, u, helm, True, memo)) for u in units]
        alone = []
        for u in units:
            values_module._CHART_ITEMS.clear()
            alone.append(_signature(effective_values(ctx.store, u, helm, True, None)))
        assert shared == alone
        with_conflict = [s for s in shared if s[0] is not None and s[2]]
        assert with_conflict, "the planted conflict is found"
        billing = [s[0] for s in shared if s[0] is not None and s[1][0][2] == "products/billing/values.yaml"]
        assert len(billing) > 10 and all(("podAnnotations" in v) == (helm == 3) for v in billing)
        assert sum(isinstance(v.get("extraSecrets"), dict) for v in billing) > 10
        assert all(v["extraSecrets"] == ({"legacy": None, "kept": True} if helm == 3 else {"kept": True})
                   for v in billing if isinstance(v.get("extraSecrets"), dict))


def test_product_layers_are_read_once_and_customer_layers_per_unit(tmp_path: Path):
    configs, infra = copy_examples(tmp_path)
    with context(configs, infra) as ctx:
        units = [u for u in ctx.units() if u.product == "billing" and u.environment == "prod"][:3]
        assert len(units) == 3
        memo: dict = {}
        layer_lists = [unit_layers(ctx.store, u, 4, True, memo)[0] for u in units]
        product = [[layer for layer in layers if layer.path.startswith("products/")] for layers in layer_lists]
        assert {layer.repo for layer in product[0]} == {CONFIGS, INFRA}
        assert all(a is b for other in product[1:] for a, b in zip(product[0], other, strict=True))
        customer_paths = [{layer.path for layer in layers if layer.path.startswith("customers/")}
                          for layers in layer_lists]
        assert all(paths for paths in customer_paths)
        assert len({frozenset(paths) for paths in customer_paths}) == 3


def test_a_broken_product_file_is_an_error_of_every_unit_with_or_without_the_memo(tmp_path: Path):
    configs, infra = copy_examples(tmp_path)
    (configs / "products/billing/base-values.yaml").write_text("a: [unclosed\n")
    with context(configs, infra) as ctx:
        units = [u for u in ctx.units() if u.product == "billing"]
        memo: dict = {}
        for u in units:
            ev, errors = effective_values(ctx.store, u, 4, True, memo)
            assert ev is None
            assert [(e.path, e.reason) for e in errors] == [("products/billing/base-values.yaml",
                                                             "the file could not be parsed")]
