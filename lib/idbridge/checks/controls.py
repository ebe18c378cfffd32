"""The control frameworks auditors work from, and the controls of each that the checks map to.

A check declares the controls it gives evidence for in its unit (`controls=nist("AC-2(3)", "PS-4") +
iso("5.18")`). Every control id must be listed here with its published title, so a typo or an invented number
fails when the unit is imported, not in an auditor's hands. The lists hold only the controls some check uses;
add a control here (with its title as the framework publishes it) before mapping a check to it.

Where the ids and titles were checked:
    NIST SP 800-53 Rev. 5   NIST's OSCAL catalogue (usnistgov/oscal-content, SP 800-53 Rev. 5.1.1 resolved
                            baselines): the control statements were read to choose each mapping
    ISO/IEC 27001:2022      Annex A (the same numbering and titles as ISO/IEC 27002:2022 clauses 5-8)
    CIS AWS 3.0.0           CIS Amazon Web Services Foundations Benchmark v3.0.0, section 1 (recommendations on
                            IAM users only are not mapped: Identity Center users are not IAM users)
    CIS M365 4.0.0          CIS Microsoft 365 Foundations Benchmark v4.0.0, section 5 (Microsoft Entra admin
                            center)

A mapping says which control a check gives evidence for, never that the control is met: a pass of every check
mapped to AC-2 is a pass of those checks, not an assessment of AC-2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Framework:
    key: str                       # how units name it: "nist-800-53"
    name: str                      # how people name it, version included: "NIST SP 800-53 Rev. 5"
    short: str                     # before a control id in one-line lists: "NIST 800-53 AC-2(3)"
    url: str
    controls: tuple[tuple[str, str], ...]   # (id, published title), in the framework's order

    def title(self, control_id: str) -> str:
        return dict(self.controls)[control_id]


@dataclass(frozen=True)
class Control:
    framework: str                 # Framework.name
    id: str                        # as the framework numbers it: "AC-2(3)", "A.5.18", "1.16", "5.2.3.4"
    title: str                     # as the framework titles it

    @property
    def label(self) -> str:
        """One line for lists and CSV cells: "NIST 800-53 AC-2(3)"."""
        framework = BY_NAME.get(self.framework)
        return f"{framework.short if framework else self.framework} {self.id}"


NIST = Framework(
    "nist-800-53", "NIST SP 800-53 Rev. 5", "NIST 800-53", "https://csrc.nist.gov/pubs/sp/800/53/r5/upd1/final", (
        ("AC-2", "Account Management"),
        ("AC-2(1)", "Automated System Account Management"),
        ("AC-2(3)", "Disable Accounts"),
        ("AC-3", "Access Enforcement"),
        ("AC-5", "Separation of Duties"),
        ("AC-6", "Least Privilege"),
        ("AC-6(5)", "Privileged Accounts"),
        ("AC-6(7)", "Review of User Privileges"),
        ("AC-12", "Session Termination"),
        ("AC-16", "Security and Privacy Attributes"),
        ("AU-6", "Audit Record Review, Analysis, and Reporting"),
        ("CM-3", "Configuration Change Control"),
        ("CM-6", "Configuration Settings"),
        ("IA-2", "Identification and Authentication (Organizational Users)"),
        ("IA-2(1)", "Multi-factor Authentication to Privileged Accounts"),
        ("IA-2(2)", "Multi-factor Authentication to Non-privileged Accounts"),
        ("IA-4", "Identifier Management"),
        ("IA-5", "Authenticator Management"),
        ("IA-8", "Identification and Authentication (Non-organizational Users)"),
        ("IA-11", "Re-authentication"),
        ("PS-4", "Personnel Termination"),
        ("PS-7", "External Personnel Security"),
        ("SC-12", "Cryptographic Key Establishment and Management"),
        ("SC-23", "Session Authenticity"),
    ))

ISO = Framework(
    "iso-27001", "ISO/IEC 27001:2022 Annex A", "ISO 27001", "https://www.iso.org/standard/27001", (
        ("A.5.3", "Segregation of duties"),
        ("A.5.15", "Access control"),
        ("A.5.16", "Identity management"),
        ("A.5.17", "Authentication information"),
        ("A.5.18", "Access rights"),
        ("A.8.2", "Privileged access rights"),
        ("A.8.3", "Information access restriction"),
        ("A.8.5", "Secure authentication"),
        ("A.8.9", "Configuration management"),
        ("A.8.16", "Monitoring activities"),
        ("A.8.24", "Use of cryptography"),
        ("A.8.32", "Change management"),
    ))

CIS_AWS = Framework(
    "cis-aws", "CIS AWS Foundations Benchmark v3.0.0", "CIS AWS 3.0.0",
    "https://www.cisecurity.org/benchmark/amazon_web_services", (
        ("1.16", "Ensure IAM policies that allow full \"*:*\" administrative privileges are not attached"),
        ("1.21", "Ensure IAM users are managed centrally via identity federation or AWS Organizations for "
                 "multi-account environments"),
    ))

CIS_M365 = Framework(
    "cis-m365", "CIS Microsoft 365 Foundations Benchmark v4.0.0", "CIS M365 4.0.0",
    "https://www.cisecurity.org/benchmark/microsoft_365", (
        ("5.2.2.2", "Ensure multifactor authentication is enabled for all users"),
        ("5.2.3.4", "Ensure all member users are 'MFA capable'"),
    ))

FRAMEWORKS: dict[str, Framework] = {f.key: f for f in (NIST, ISO, CIS_AWS, CIS_M365)}  # report order
BY_NAME: dict[str, Framework] = {f.name: f for f in FRAMEWORKS.values()}
REQUIRED: tuple[str, ...] = (NIST.key, ISO.key)  # every check maps to both; CIS only where a recommendation fits


def controls(framework: str, *ids: str) -> tuple[Control, ...]:
    """The controls of a framework by id; an unknown framework or id is an error naming what is known."""
    if framework not in FRAMEWORKS:
        raise ValueError(f"unknown control framework {framework!r}: one of {', '.join(FRAMEWORKS)}")
    known = FRAMEWORKS[framework]
    catalogue = dict(known.controls)
    for control_id in ids:
        if control_id not in catalogue:
            raise ValueError(f"{known.name} has no control {control_id!r} in idbridge's list "
                             f"(checks/controls.py): add it with its published title, or fix the id")
    return tuple(Control(known.name, control_id, catalogue[control_id]) for control_id in ids)


def nist(*ids: str) -> tuple[Control, ...]:
    return controls(NIST.key, *ids)


def iso(*ids: str) -> tuple[Control, ...]:
    """ISO/IEC 27001:2022 Annex A controls by number, with or without the "A.": iso("5.18", "8.2")."""
    return controls(ISO.key, *(i if i.startswith("A.") else f"A.{i}" for i in ids))


def cis_aws(*ids: str) -> tuple[Control, ...]:
    return controls(CIS_AWS.key, *ids)


def cis_m365(*ids: str) -> tuple[Control, ...]:
    return controls(CIS_M365.key, *ids)


def validate(check_id: str, mapped: tuple[Control, ...]) -> None:
    """A unit's controls: at least one of every required framework, each a known control, none twice."""
    if not isinstance(mapped, tuple) or not all(isinstance(c, Control) for c in mapped):
        raise ValueError(f"check {check_id}: `controls` must be a tuple of Control (use nist(), iso(), ...)")
    for control in mapped:
        framework = BY_NAME.get(control.framework)
        if framework is None:
            raise ValueError(f"check {check_id}: unknown control framework {control.framework!r}")
        if dict(framework.controls).get(control.id) != control.title:
            raise ValueError(f"check {check_id}: {control.label} is not in idbridge's list with that title")
    missing = [FRAMEWORKS[k].name for k in REQUIRED if not any(c.framework == FRAMEWORKS[k].name for c in mapped)]
    if missing:
        raise ValueError(f"check {check_id}: no control of {', '.join(missing)}; map the check to the controls "
                         "it gives evidence for (checks/controls.py)")
    if len(set(mapped)) != len(mapped):
        raise ValueError(f"check {check_id}: a control is listed twice")


def sort_key(control: Control) -> tuple:
    """Frameworks in report order, then ids in their natural order (AC-2 < AC-2(3) < AC-12; A.5.3 < A.5.15)."""
    order = list(BY_NAME).index(control.framework) if control.framework in BY_NAME else len(BY_NAME)
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.findall(r"\d+|[A-Za-z]+", control.id))
    return order, control.framework, parts


def ordered(mapped) -> list[Control]:
    return sorted(mapped, key=sort_key)


def labels(mapped) -> str:
    """"NIST 800-53 AC-2; ISO 27001 A.5.18": the one-line form of CSV cells."""
    return "; ".join(c.label for c in ordered(mapped))


def from_record(record: dict) -> Control:
    """A control as findings.json stores it ({framework, id, title}), whether or not this version lists it."""
    return Control(str(record["framework"]), str(record["id"]), str(record.get("title", "")))
