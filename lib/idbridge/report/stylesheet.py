"""The stylesheet every report and the run's index share: severity and outcome colours (always with their word),
the header, the verdict banner, expandable findings, tables, the failure panel, and what printing changes."""

BADGE_CSS = """
:root{--critical:#8b0000;--high:#c92a2a;--medium:#b35c00;--low:#2b8a3e;--info:#495057}
.sev,.outcome{display:inline-block;padding:0 6px;border-radius:3px;font-weight:600;font-size:.9em;
  border:1px solid currentColor;white-space:nowrap}
.sev-critical{color:#fff;background:var(--critical)}.sev-high{color:var(--high);background:#fff5f5}
.sev-medium{color:var(--medium);background:#fff9db}.sev-low{color:var(--low);background:#ebfbee}
.sev-info{color:var(--info);background:#f1f3f5}
.outcome-pass,.outcome-ok,.outcome-success{color:#2b8a3e;background:#ebfbee}
.outcome-fail,.outcome-failed,.outcome-failure,.outcome-error,.outcome-check_failed{color:#c92a2a;background:#fff5f5}
.outcome-not_checked{color:#b35c00;background:#fff9db}.outcome-not_applicable{color:#495057;background:#f1f3f5}
"""

REPORT_CSS = BADGE_CSS + """
body{color:#212529}
.jp-RenderedHTMLCommon{font-family:system-ui,-apple-system,"Segoe UI",sans-serif}
.idbridge-bar{font:13px system-ui,sans-serif;padding:6px 12px;background:#f1f3f5;border-bottom:1px solid #dee2e6;
  line-height:1.9}
.idbridge-toc a{margin-right:.9em;white-space:nowrap}.idbridge-toc .h3{font-size:.92em;color:#495057}
.idbridge-header dl{display:flex;flex-wrap:wrap;gap:4px 22px;margin:4px 0 8px;padding:8px 12px;background:#f8f9fa;
  border:1px solid #dee2e6;border-radius:4px;font-size:13px}
.idbridge-header dl>div{min-width:10em;max-width:32em}
.jp-RenderedHTMLCommon .idbridge-header dt{float:none;display:block;width:auto;color:#6c757d;font-size:11px;
  text-transform:uppercase;letter-spacing:.03em;margin:0;padding:0;text-align:left;font-weight:normal}
.jp-RenderedHTMLCommon .idbridge-header dd{float:none;display:block;margin:0;padding:0;font-weight:600;
  overflow-wrap:anywhere}
.idbridge-header.filtered dd[data-field=Scope]{color:#b35c00}
.idbridge-verdict{padding:10px 14px;margin:6px 0 12px;border-radius:4px;border-left:8px solid}
.idbridge-verdict.verdict-pass{background:#ebfbee;border-color:#2b8a3e}
.idbridge-verdict.verdict-fail{background:#fff5f5;border-color:#c92a2a}
.idbridge-verdict.verdict-notchecked{background:#fff9db;border-color:#e67700}
.idbridge-verdict .word{font-size:1.6em;font-weight:800;letter-spacing:.02em}
.verdict-pass .word{color:#2b8a3e}.verdict-fail .word{color:#c92a2a}.verdict-notchecked .word{color:#b35c00}
.idbridge-verdict .headline{font-size:1.05em;margin:2px 0 8px}
.idbridge-verdict .tiles{display:flex;flex-wrap:wrap;gap:8px}
.idbridge-verdict .tile{background:#fff;border:1px solid #dee2e6;border-radius:4px;padding:4px 12px;min-width:6.5em}
.idbridge-verdict .tile b{display:block;font-size:1.4em}.idbridge-verdict .tile span{color:#495057;font-size:12px}
.idbridge-report-verdict{padding:8px 14px;margin:6px 0 12px;border-radius:4px;border-left:8px solid}
.idbridge-report-verdict.verdict-pass{background:#ebfbee;border-color:#2b8a3e}
.idbridge-report-verdict.verdict-fail{background:#fff5f5;border-color:#c92a2a}
.idbridge-report-verdict.verdict-notchecked{background:#fff9db;border-color:#e67700}
.idbridge-report-verdict .word{font-size:1.25em;font-weight:800}.idbridge-report-verdict ul{margin:4px 0}
.idbridge-headline{font-size:1.3em;font-weight:700;margin:6px 0 10px}
ul.controls{margin:2px 0 6px;padding-left:1.2em}
.idbridge-diff td.before{color:#c92a2a}.idbridge-diff td.after{color:#2b8a3e}
.idbridge-verdict .todo h3{margin:10px 0 2px;font-size:1em}.idbridge-verdict ol{margin:2px 0}
.idbridge-verdict .score-note{color:#6c757d;font-size:12px;margin:6px 0 0}
.muted{color:#6c757d}
details.finding{border:1px solid #dee2e6;border-left:6px solid #adb5bd;border-radius:4px;margin:4px 0;
  padding:4px 10px;background:#fff}
details.finding.sev-critical{border-left-color:var(--critical)}details.finding.sev-high{border-left-color:var(--high)}
details.finding.sev-medium{border-left-color:#f59f00}details.finding.sev-low{border-left-color:#74b816}
details.finding summary{cursor:pointer;padding:2px 0}details.finding h4{margin:10px 0 2px;font-size:.95em}
details.finding p{margin:2px 0;white-space:pre-wrap}
table.findings,table.evidence{border-collapse:collapse;width:100%}
table.findings td,table.findings th,table.evidence td,table.evidence th{border:1px solid #e9ecef;padding:3px 6px;
  text-align:left;vertical-align:top;overflow-wrap:anywhere}
table.evidence th{font-weight:normal;color:#6c757d;width:12em}
.jp-RenderedHTMLCommon table.idbridge-table{table-layout:auto;width:100%;margin:4px 0}
.jp-RenderedHTMLCommon table.idbridge-table td,.jp-RenderedHTMLCommon table.idbridge-table th{text-align:left;
  vertical-align:top;white-space:normal;overflow-wrap:break-word;max-width:40em}
.jp-RenderedHTMLCommon table.idbridge-table td{white-space:pre-line}
.jp-RenderedHTMLCommon table.idbridge-table tfoot input{width:100%;box-sizing:border-box;font-size:12px}
.idbridge-failure{border:2px solid #c92a2a;background:#fff5f5;border-radius:4px;padding:10px 14px;margin:8px 0}
.idbridge-failure h3{margin:0 0 6px;color:#c92a2a}
.jp-RenderedHTMLCommon .idbridge-failure dt{float:none;display:block;width:auto;font-weight:700;text-align:left}
.jp-RenderedHTMLCommon .idbridge-failure dd{float:none;display:block;margin:0 0 6px 0;padding:0}
@media print{
  @page{size:A4;margin:10mm}
  body{font-size:9.5px}
  .jp-RenderedHTMLCommon{font-size:9.5px;line-height:1.35}
  .jp-RenderedHTMLCommon p{margin:2px 0}
  .idbridge-bar,.modebar-container,.dt-search,.dt-length,.dt-paging,table.idbridge-table tfoot,.anchor-link{
    display:none!important}
  .jp-Notebook{padding:0!important}.jp-Cell{padding:0!important}
  .jp-OutputArea-output{overflow:visible!important}
  /* JupyterLab keeps each output whole on a page (avoid-page): an output taller than what is left of a page then
     starts on a new one, leaving the page before it blank. Outputs break like text; charts and findings stay whole. */
  .jp-OutputArea-child{break-inside:auto!important}
  .plotly-graph-div{zoom:var(--idbridge-print-zoom,1);break-inside:avoid}
  .jp-RenderedHTMLCommon table.idbridge-table{table-layout:auto;font-size:9.5px}
  .jp-RenderedHTMLCommon table.idbridge-table td,.jp-RenderedHTMLCommon table.idbridge-table th{max-width:none;
    padding:2px 4px;overflow-wrap:anywhere}
  /* Automatic column widths give long text the room; any cell may break anywhere so no table runs off the page,
     but a column is at least as wide as the words of its header. */
  .jp-RenderedHTMLCommon table.idbridge-table thead th{overflow-wrap:normal;padding-right:4px!important}
  .dt-column-order{display:none!important}
  details.finding{break-inside:avoid}
  .idbridge-header dl{font-size:9px;gap:2px 14px}.idbridge-header dl>div{min-width:0}
  .idbridge-verdict .tile b{font-size:1.15em}.idbridge-verdict .score-note{font-size:8.5px}
  h1,h2,h3{break-after:avoid}
}
"""
