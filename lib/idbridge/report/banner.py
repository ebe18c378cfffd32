"""The verdict banner every report opens with: the word in colour, the headline, and what was not checked."""

from __future__ import annotations

from idbridge.report.safe import html_text

COLOURS = {"pass": ("#ebfbee", "#2b8a3e"), "fail": ("#fff5f5", "#c92a2a"), "not_checked": ("#fff9db", "#e67700")}


def grouped_reasons(reasons) -> list[str]:
    """One line per distinct reason: checks not run for the same reason are named together, not repeated."""
    groups: dict[str, list[str]] = {}
    lines: list[str] = []
    for reason in reasons:
        if reason.startswith("check ") and ": " in reason:
            head, why = reason.split(": ", 1)
            check_id = head.split(" ")[1]
            if why not in groups:
                groups[why] = []
                lines.append(why)
            groups[why].append(check_id)
        elif reason not in lines:
            lines.append(reason)
    return [f"{line} — {len(groups[line])} check{'s' if len(groups[line]) != 1 else ''}: "
            f"{', '.join(groups[line])}" if line in groups else line for line in lines]


def banner_html(verdict) -> str:
    background, border = COLOURS.get(verdict.status, COLOURS["not_checked"])
    shown = "".join(f"<li>{html_text(r)}</li>" for r in grouped_reasons(verdict.reasons))
    return (f"<div style='background:{background};border-left:8px solid {border};padding:10px 14px;"
            f"margin:6px 0;border-radius:4px;font-family:system-ui,sans-serif'>"
            f"<div style='font-size:1.5em;font-weight:700;color:{border}'>{html_text(verdict.word)}</div>"
            f"<div style='font-size:1.05em'>{html_text(verdict.headline)}</div>"
            + (f"<ul style='margin:6px 0 0'>{shown}</ul>" if shown else "") + "</div>")


def verdict_banner(verdict):
    from IPython.display import HTML

    return HTML(banner_html(verdict))
