"""Diff as one self-contained HTML file for release managers: no external assets; one row per group of
identical changes ("image.tag 2.14.3 → 2.15.0 — 488 units of analytics"), expandable to its changes and
every one of its units; removed units and removed Applications first; an expand-all; filters by
customer, product, environment and change kind that hide units inside groups too; readable printed."""

from __future__ import annotations

import html
from typing import TextIO

from checks.diffing.units import UnitDiff
from checks.reports.base import DiffReportContext
from checks.reports.diff_render import (
    SYMBOL,
    application_lines,
    group_scope,
    group_title,
    groups,
    labels_list,
    path_text,
    plural,
    schema_lines,
    set_in_text,
    value_text,
)

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:1.5rem;color:#1d2330}
h1{font-size:1.3rem} .summary{display:flex;gap:1rem;flex-wrap:wrap;margin:.5rem 0 1rem}
.stat{border:1px solid #d0d5dd;border-radius:6px;padding:.4rem .8rem}
.removed-warning{background:#fdecea;border:1px solid #f5c2bd;padding:.5rem .8rem;border-radius:6px}
.promotion{background:#eef4ff;border:1px solid #c7d7fe;padding:.5rem .8rem;border-radius:6px}
form{display:flex;gap:.8rem;flex-wrap:wrap;align-items:center;margin:1rem 0} label{font-weight:600}
details.group{border:1px solid #d0d5dd;border-radius:6px;margin:.4rem 0;padding:.3rem .6rem}
details.group[hidden]{display:none} summary{cursor:pointer} li.unit[hidden]{display:none}
details.group.st-removed{border-color:#e8a29b}
.status{font-weight:700;padding:0 .4rem;border-radius:4px}
.st-changed .status,.status.st-changed{background:#fff4ce}.st-added .status,.status.st-added{background:#dff5e1}
.st-removed .status,.status.st-removed{background:#fdecea}.st-unevaluated .status{background:#eee}
ul.units{columns:3 16rem;margin:.3rem 0;font-family:ui-monospace,monospace;font-size:12px}
table{border-collapse:collapse;width:100%;margin:.4rem 0} td,th{border-bottom:1px solid #eee;padding:.2rem .4rem;
text-align:left;vertical-align:top;font-family:ui-monospace,monospace;font-size:12px}
tr.k-added td.kind{color:#137333} tr.k-removed td.kind{color:#b3261e} tr.k-changed td.kind{color:#8a6d00}
tr.k-type td.kind{color:#6f42c1} .count{color:#667}
@media print{form{display:none} details.group{break-inside:avoid} details.group[hidden]{display:block}
li.unit[hidden]{display:list-item}}
"""

_JS = """
(function(){
  var sel = function(id){ return document.getElementById(id); };
  var groups = document.querySelectorAll('details.group');
  function apply(){
    var c = sel('f-customer').value, p = sel('f-product').value, e = sel('f-environment').value,
        k = sel('f-kind').value, shown = 0, shownGroups = 0;
    groups.forEach(function(g){
      var kindOk = !k || g.dataset.status === k || (' ' + g.dataset.kinds + ' ').indexOf(' ' + k + ' ') >= 0;
      var n = 0;
      g.querySelectorAll('li.unit').forEach(function(u){
        var ok = kindOk && (!c || u.dataset.customer === c) && (!p || u.dataset.product === p) &&
                 (!e || u.dataset.environment === e);
        u.hidden = !ok; if (ok) { n++; }
      });
      g.hidden = n === 0;
      g.querySelector('.n-shown').textContent = n;
      shown += n; if (n) { shownGroups++; }
    });
    sel('shown').textContent = shown;
    sel('shown-groups').textContent = shownGroups;
  }
  function expand(open){
    document.querySelectorAll('details').forEach(function(d){ d.open = open; });
  }
  ['f-customer','f-product','f-environment','f-kind'].forEach(function(id){
    sel(id).addEventListener('change', apply);
  });
  sel('expand-all').addEventListener('click', function(){ expand(true); });
  sel('collapse-all').addEventListener('click', function(){ expand(false); });
  window.addEventListener('beforeprint', function(){ expand(true); });
  apply();
})();
"""


def _options(name: str, values: list[str]) -> str:
    opts = "".join(f'<option value="{html.escape(v)}">{html.escape(v)}</option>' for v in values)
    return (f'<label for="f-{name}">{name}</label><select id="f-{name}" name="{name}">'
            f'<option value="">all</option>{opts}</select>')


def _group(group: list[UnitDiff], e) -> list[str]:
    first = group[0]
    kinds = " ".join(sorted({c.kind for c in first.changes}))
    parts = [f"<details class='group st-{e(first.status)}' data-status='{e(first.status)}' data-kinds='{e(kinds)}' "
             f"data-units='{len(group)}'><summary><span class='status st-{e(first.status)}'>{e(first.status)}</span> "
             f"{e(group_title(group))} — {e(group_scope(group))} "
             f"<span class='count'>(<span class='n-shown'>{len(group)}</span> shown)</span></summary>"]
    if first.note:
        parts.append(f"<p>{e(first.note)}</p>")
    if first.changes:
        parts.append("<table><thead><tr><th></th><th>key</th><th>before</th><th>after</th><th>set in</th>"
                     "</tr></thead><tbody>")
        for c in first.changes:
            parts.append(f"<tr class='k-{e(c.kind)}' data-kind='{e(c.kind)}'><td class='kind' title='{e(c.kind)}'>"
                         f"{SYMBOL[c.kind]}</td><td>{e(path_text(c.path))}</td>"
                         f"<td>{e(value_text(c.before, 400)) if c.kind != 'added' else ''}</td>"
                         f"<td>{e(value_text(c.after, 400)) if c.kind != 'removed' else ''}</td>"
                         f"<td>{e(set_in_text(c))}</td></tr>")
        parts.append("</tbody></table>")
    parts.append(f"<details class='units-list'><summary>the {plural(len(group), 'unit')}</summary><ul class='units'>")
    parts += [f"<li class='unit' data-customer='{e(u.unit.customer)}' data-product='{e(u.unit.product)}' "
              f"data-environment='{e(u.unit.environment)}'>{e(u.unit.label)}</li>" for u in group]
    parts.append("</ul></details></details>")
    return parts


def write(report: DiffReportContext, out: TextIO) -> None:
    result = report.diff
    s = result.summary()
    e = html.escape
    units = result.units
    kinds = sorted({c.kind for u in units for c in u.changes} | {u.status for u in units})
    all_groups = groups(result)
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
             "<meta name='viewport' content='width=device-width, initial-scale=1'>",
             f"<title>gitops-checks diff: {e(result.base)} → {e(result.head)}</title>",
             f"<style>{_CSS}</style></head><body>",
             f"<h1>Effective values: {e(result.base)} → {e(result.head)}</h1>"]
    if result.mode == "environments":
        parts.append(f"<p class='promotion'><b>Promotion view</b> at {e(str(result.revision))}: what "
                     f"<b>{e(str(result.to_env))}</b> becomes if it takes <b>{e(str(result.from_env))}</b>'s values "
                     f"({e(result.base)} → {e(result.head)}). <i>set in</i> shows where each value comes from now "
                     "and after.</p>")
    parts += ["<div class='summary'>",
              f"<div class='stat'><b id='n-changed'>{s['units_changed']}</b> changed</div>",
              f"<div class='stat'><b id='n-added'>{s['units_added']}</b> added</div>",
              f"<div class='stat'><b id='n-removed'>{s['units_removed']}</b> removed</div>",
              f"<div class='stat'><b>{s['customers_affected']}</b> "
              f"{'customer' if s['customers_affected'] == 1 else 'customers'}</div></div>"]
    if s["units_removed"]:
        parts.append("<p class='removed-warning'>Removed units: ArgoCD will delete these customers' running "
                     "applications when this merges (listed first below).</p>")
    apps = result.applications or {}
    if apps.get("added") or apps.get("removed"):
        parts.append("<h2>Applications</h2><ul id='applications'>")
        for app in apps.get("removed", []):
            parts.append(f"<li class='st-removed'><span class='status st-removed'>removed</span> "
                         f"{e(str(app.get('name')))} (ArgoCD deletes it)</li>")
        for app in apps.get("added", []):
            parts.append(f"<li class='st-added'><span class='status st-added'>added</span> "
                         f"{e(str(app.get('name')))} (ArgoCD creates it)</li>")
        parts.append("</ul>")
    extra = application_lines(result, limit=2000, kinds=("changed",)) + schema_lines(result, limit=500)
    if extra:
        parts.append("<h2>Application and schema changes</h2><ul id='application-changes'>")
        parts += [f"<li class='st-{'removed' if kind == 'type' else kind}'>{e(line)}</li>" for kind, line in extra]
        parts.append("</ul>")
    if s["changed_files"]:
        parts.append("<h2>Changed files</h2><ul>")
        parts += [f"<li><code>{e(f)}</code> → {plural(n, 'unit')} whose diff it caused</li>"
                  for f, n in s["changed_files"].items()]
        parts.append("</ul>")
    if result.shadowed:
        parts.append("<h2>Not receiving a default's change</h2><p>These units set the changed key in a later "
                     "values file (the product's base or environment file over a chart default, an environment or "
                     "customer file over a product default), so they keep their own value.</p>"
                     "<table id='not-receiving'>"
                     "<thead><tr><th>key</th><th>new default</th><th>units that keep their value</th>"
                     "<th>overridden in</th></tr></thead><tbody>")
        for sh in result.shadowed:
            parts.append(f"<tr><td>{e(path_text(sh.path))}<br><span class='count'>{e(sh.default_file)}</span></td>"
                         f"<td>{e(value_text(sh.after, 200))}</td><td>{plural(len(sh.units), 'unit')}: "
                         f"{e(labels_list(sh.units))}</td><td>{e(', '.join(sh.sources))}</td></tr>")
        parts.append("</tbody></table>")
    parts.append("<form id='filters' onsubmit='return false'>")
    parts.append(_options("customer", sorted({u.unit.customer for u in units})))
    parts.append(_options("product", sorted({u.unit.product for u in units})))
    parts.append(_options("environment", sorted({u.unit.environment for u in units})))
    parts.append(_options("kind", kinds))
    parts.append("<button type='button' id='expand-all'>Expand all</button>"
                 "<button type='button' id='collapse-all'>Collapse all</button>"
                 "<span class='count'>showing <b id='shown'></b> units in <b id='shown-groups'></b> groups</span>"
                 "</form><section id='groups'>")
    for group in all_groups:
        parts += _group(group, e)
    parts.append("</section>")
    if result.ignored:
        parts.append(f"<h2>Meant to differ ({e(', '.join(result.ignore_patterns))})</h2><table id='ignored'>"
                     "<thead><tr><th>key</th><th>units</th><th>example</th></tr></thead><tbody>")
        parts += [f"<tr><td>{e(k)}</td><td>{n}</td><td>{e(ex)}</td></tr>" for k, (n, ex) in result.ignored.items()]
        parts.append("</tbody></table>")
    parts.append(f"<script>{_JS}</script></body></html>")
    out.write("\n".join(parts) + "\n")
