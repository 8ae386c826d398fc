"""Diff as one self-contained HTML file: no external assets, filters by customer, product,
environment and change kind, collapsible units, readable when printed."""

from __future__ import annotations

import html
from typing import TextIO

from checks.diffing.units import DiffResult
from checks.reports.diff_render import SYMBOL, path_text, source_text, value_text

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:1.5rem;color:#1d2330}
h1{font-size:1.3rem} .summary{display:flex;gap:1rem;flex-wrap:wrap;margin:.5rem 0 1rem}
.stat{border:1px solid #d0d5dd;border-radius:6px;padding:.4rem .8rem}
.removed-warning{background:#fdecea;border:1px solid #f5c2bd;padding:.5rem .8rem;border-radius:6px}
form{display:flex;gap:.8rem;flex-wrap:wrap;margin:1rem 0} label{font-weight:600}
details.unit{border:1px solid #d0d5dd;border-radius:6px;margin:.4rem 0;padding:.3rem .6rem}
details.unit[hidden]{display:none} summary{cursor:pointer}
.status{font-weight:700;padding:0 .4rem;border-radius:4px}
.st-changed{background:#fff4ce}.st-added{background:#dff5e1}.st-removed{background:#fdecea}
.st-unevaluated{background:#eee}
table{border-collapse:collapse;width:100%;margin:.4rem 0} td,th{border-bottom:1px solid #eee;padding:.2rem .4rem;
text-align:left;vertical-align:top;font-family:ui-monospace,monospace;font-size:12px}
tr.k-added td.kind{color:#137333} tr.k-removed td.kind{color:#b3261e} tr.k-changed td.kind{color:#8a6d00}
tr.k-type td.kind{color:#6f42c1} .count{color:#667}
@media print{form{display:none} details.unit{break-inside:avoid} details.unit[hidden]{display:block}}
"""

_JS = """
(function(){
  var sel = function(id){ return document.getElementById(id); };
  function apply(){
    var c = sel('f-customer').value, p = sel('f-product').value, e = sel('f-environment').value,
        k = sel('f-kind').value, shown = 0;
    document.querySelectorAll('details.unit').forEach(function(d){
      var ok = (!c || d.dataset.customer === c) && (!p || d.dataset.product === p) &&
               (!e || d.dataset.environment === e) &&
               (!k || d.dataset.status === k || (' ' + d.dataset.kinds + ' ').indexOf(' ' + k + ' ') >= 0);
      d.hidden = !ok; if (ok) { shown++; }
    });
    sel('shown').textContent = shown;
  }
  ['f-customer','f-product','f-environment','f-kind'].forEach(function(id){
    sel(id).addEventListener('change', apply);
  });
  window.addEventListener('beforeprint', function(){
    document.querySelectorAll('details.unit').forEach(function(d){ d.open = true; });
  });
  apply();
})();
"""


def _options(name: str, values: list[str]) -> str:
    opts = "".join(f'<option value="{html.escape(v)}">{html.escape(v)}</option>' for v in values)
    return (f'<label for="f-{name}">{name}</label><select id="f-{name}" name="{name}">'
            f'<option value="">all</option>{opts}</select>')


def write(result: DiffResult, out: TextIO) -> None:
    s = result.summary()
    e = html.escape
    units = result.units
    kinds = sorted({c.kind for u in units for c in u.changes} | {u.status for u in units})
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
             "<meta name='viewport' content='width=device-width, initial-scale=1'>",
             f"<title>gitops-checks diff: {e(result.base)} → {e(result.head)}</title>",
             f"<style>{_CSS}</style></head><body>",
             f"<h1>Effective values: {e(result.base)} → {e(result.head)}</h1>",
             "<div class='summary'>",
             f"<div class='stat'><b id='n-changed'>{s['units_changed']}</b> changed</div>",
             f"<div class='stat'><b id='n-added'>{s['units_added']}</b> added</div>",
             f"<div class='stat'><b id='n-removed'>{s['units_removed']}</b> removed</div>",
             f"<div class='stat'><b>{s['customers_affected']}</b> customers</div></div>"]
    if s["units_removed"]:
        parts.append("<p class='removed-warning'>Removed units: ArgoCD will delete these customers' running "
                     "applications when this merges.</p>")
    if result.applications and (result.applications.get("added") or result.applications.get("removed")):
        parts.append("<h2>Applications</h2><ul>")
        for app in result.applications.get("removed", []):
            parts.append(f"<li class='st-removed'>removed: {e(str(app.get('name')))}</li>")
        for app in result.applications.get("added", []):
            parts.append(f"<li class='st-added'>added: {e(str(app.get('name')))}</li>")
        parts.append("</ul>")
    if s["changed_files"]:
        parts.append("<h2>Changed files</h2><ul>")
        parts += [f"<li><code>{e(f)}</code> → {n} units</li>" for f, n in s["changed_files"].items()]
        parts.append("</ul>")
    parts.append("<form id='filters' onsubmit='return false'>")
    parts.append(_options("customer", sorted({u.unit.customer for u in units})))
    parts.append(_options("product", sorted({u.unit.product for u in units})))
    parts.append(_options("environment", sorted({u.unit.environment for u in units})))
    parts.append(_options("kind", kinds))
    parts.append("<span class='count'>showing <b id='shown'></b> units</span></form><section id='units'>")
    for u in units:
        unit_kinds = " ".join(sorted({c.kind for c in u.changes}))
        parts.append(
            f"<details class='unit' data-customer='{e(u.unit.customer)}' data-product='{e(u.unit.product)}' "
            f"data-environment='{e(u.unit.environment)}' data-status='{e(u.status)}' data-kinds='{e(unit_kinds)}'>"
            f"<summary>{e(u.unit.label)} <span class='status st-{e(u.status)}'>{e(u.status)}</span> "
            f"<span class='count'>{len(u.changes)} changes</span></summary>")
        if u.note:
            parts.append(f"<p>{e(u.note)}</p>")
        if u.changes:
            parts.append("<table><thead><tr><th></th><th>key</th><th>before</th><th>after</th><th>set in</th>"
                         "</tr></thead><tbody>")
            for c in u.changes:
                parts.append(f"<tr class='k-{e(c.kind)}' data-kind='{e(c.kind)}'><td class='kind' title='{e(c.kind)}'>"
                             f"{SYMBOL[c.kind]}</td><td>{e(path_text(c.path))}</td>"
                             f"<td>{e(value_text(c.before, 400)) if c.kind != 'added' else ''}</td>"
                             f"<td>{e(value_text(c.after, 400)) if c.kind != 'removed' else ''}</td>"
                             f"<td>{e(source_text(c.source))}</td></tr>")
            parts.append("</tbody></table>")
        parts.append("</details>")
    parts.append(f"</section><script>{_JS}</script></body></html>")
    out.write("\n".join(parts) + "\n")
