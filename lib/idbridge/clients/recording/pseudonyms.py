"""Personal data in recorded answers replaced by pseudonyms, the same person getting the same pseudonym everywhere.

    p = Pseudonymiser()                 # a fresh random key, never saved: pseudonyms cannot be reversed
    p.learn(answer) for every answer    # pass 1: which strings are personal (by the field they sit in)
    p.apply(answer)                     # pass 2: every string with those values replaced

Pass 1 reads fields that hold personal data in Graph users, sign-ins, provisioning logs, Identity Store users,
Organizations accounts and CloudTrail records (the embedded CloudTrailEvent JSON included). Pass 2 replaces, in
every string anywhere (request URLs and bodies too, and JSON held inside strings):
- any e-mail address or UPN (by its shape): a pseudonymous local part at the pseudonym of its domain, so
  `alice@contoso.com` in Entra and in Identity Center is the same `user-…@d….example` on both sides;
- any IPv4 / IPv6 address other than loopback, to a private (10/8) or documentation (2001:db8::/32) address;
- learned domains, multi-word names ("Alice Smith") and user names of 4+ characters wherever they occur, with
  word boundaries (so `…/AWSReservedSSO_Admin_x/alice` is covered);
- learned single values (given name, surname, phone, department, job title, office, address, employee id) where
  they are a whole string or a whole quoted literal inside a string: a surname such as "Can" must not rewrite
  "Cancel".
The pseudonym is an HMAC-SHA256 of the lower-cased value under the key: stable within a recording, unrelated
between two recordings. Matching ignores case; a pseudonym takes the capitalisation of what it replaces (so a
case difference between the two sides survives). Ids and GUIDs are kept: they identify objects, not people,
and the checks join on them.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import re
import secrets
from collections.abc import Iterable
from typing import Any

# Field names (any object) whose string values are personal.
PERSONAL_FIELDS = {
    # Microsoft Graph users, sign-ins, registration details, audit and provisioning logs
    "userprincipalname": "user", "mail": "user", "othermails": "user", "proxyaddresses": "user",
    "mailnickname": "user", "onpremisessamaccountname": "user", "onpremisesuserprincipalname": "user",
    "imaddresses": "user", "userdisplayname": "name", "givenname": "given", "surname": "family",
    "mobilephone": "phone", "businessphones": "phone", "faxnumber": "phone", "department": "dept",
    "jobtitle": "title", "companyname": "org", "employeeid": "emp", "officelocation": "place",
    "streetaddress": "place", "city": "place", "postalcode": "place",
    "onpremisesdistinguishedname": "name", "ipaddress": "ip",
    # Identity Store users, Organizations accounts, CloudTrail
    "username": "user", "familyname": "family", "middlename": "given", "nickname": "given",
    "formatted": "name", "email": "user", "sourceipaddress": "ip", "principalid": "user",
    "notificationemailaddresses": "user",
}
# Fields personal only inside an object that stands for a person (a user, a user principal, a user identity).
PERSON_ONLY_FIELDS = {"displayname": "name", "principaldisplayname": "name", "title": "title"}
PERSON_MARKERS = ("userprincipalname", "userName".lower(), "userid")
# Values that are a field's vocabulary, never a person's, whatever field they sit in.
NOT_PERSONAL = {"", "none", "null", "true", "false", "user", "users", "group", "groups", "member", "guest",
                "enabled", "disabled", "active", "scim", "saml", "aws", "entra", "success", "failure", "unknown",
                "hidden_due_to_security_reasons", "n/a", "-"}
# Domains of the services themselves: never learned as an organisation's domain.
SERVICE_DOMAINS = ("amazonaws.com", "amazon.com", "aws", "microsoft.com", "microsoftonline.com", "windows.net",
                   "azure.com", "example.com", "example", "invalid", "localhost")

EMAIL = re.compile(r"(?<![\w.+#'-])([A-Za-z0-9][A-Za-z0-9._%+'#-]*)@((?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,})(?![\w-])")
IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.]|\.\d)")
IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){2,7}(?::|[0-9A-Fa-f]{1,4})(?![\w:])|"
                  r"(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){1,6}(?::[0-9A-Fa-f]{1,4}){1,6}(?![\w:])")
GUEST_MARK = "#EXT#"
# Object ids, account numbers, key ids: identifiers, kept (and never learned as a name).
IDENTIFIER = re.compile(r"^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|\d+|"
                        r"[0-9a-fA-F]{10}-[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|"
                        r"A[A-Z]{3}[A-Z0-9]{12,})$")
WORD_EDGE = r"[\w\-]"  # a learned token matches only where neither side continues a word or a hyphenated name


def _domain_ok(domain: str) -> bool:
    domain = domain.lower().rstrip(".")
    return bool(domain) and "." in domain and not any(domain == s or domain.endswith("." + s)
                                                      for s in SERVICE_DOMAINS)


class Pseudonymiser:
    def __init__(self, key: bytes | None = None):
        # A per-recording key, never written anywhere: the pseudonyms cannot be computed back to names.
        self._key = key or secrets.token_bytes(32)
        self.domains: dict[str, str] = {}           # learned domain (lower) -> pseudonym
        # Learned values, lower-cased, each also in its JSON-escaped spellings (as it appears inside JSON held in a
        # string, e.g. a CloudTrailEvent) -> (kind, the value itself): every spelling gets the value's pseudonym.
        self.tokens: dict[str, tuple[str, str]] = {}  # replaced wherever they occur
        self.exact: dict[str, tuple[str, str]] = {}   # replaced as a whole string or a whole quoted literal
        self._pattern: re.Pattern | None = None

    # ------------------------------------------------------------------------------------------------ pass 1

    def learn(self, value: Any, field: str | None = None, person: bool = False) -> None:
        if isinstance(value, dict):
            lowered = {str(k).lower(): v for k, v in value.items()}
            is_person = (any(m in lowered for m in PERSON_MARKERS)
                         or str(lowered.get("@odata.type", "")).lower().endswith(".user")
                         or str(lowered.get("identitytype", "")).lower() == "user"
                         or str(lowered.get("principaltype", "")).lower() == "user")
            if "verifieddomains" in lowered and isinstance(lowered.get("displayname"), str):
                self._learn_value(lowered["displayname"], "org")  # /organization: the client's own name
            given = lowered.get("givenname")
            family = lowered.get("surname") or lowered.get("familyname")
            if isinstance(given, str) and isinstance(family, str) and given and family:
                self._learn_value(f"{given} {family}", "name")  # SCIM's name.formatted, whatever displayName says
            if isinstance(lowered.get("modifiedproperties"), list) and _about_a_user(lowered):
                for change in lowered["modifiedproperties"]:
                    self._learn_change(change)
            for key, item in value.items():
                self.learn(item, str(key).lower(), is_person)
            if field in ("emails", "phonenumbers", "addresses"):  # Identity Store: [{"Value": ...}, ...]
                for key, item in lowered.items():
                    if key in ("value", "formatted", "streetaddress") and isinstance(item, str):
                        self._learn_value(item, "phone" if field == "phonenumbers" else
                                          "place" if field == "addresses" else "user")
            return
        if isinstance(value, list):
            for item in value:
                self.learn(item, field, person)
            return
        if not isinstance(value, str):
            return
        if value[:1] in "{[" and len(value) > 1:
            try:  # JSON inside a string (CloudTrailEvent, claims policies): learn from its fields too
                self.learn(json.loads(value), field, person)
                return
            except ValueError:
                pass
        kind = PERSONAL_FIELDS.get(field or "")
        if kind is None and person:
            kind = PERSON_ONLY_FIELDS.get(field or "")
        if field == "verifieddomains" or field == "domains":
            return
        if kind:
            self._learn_value(value, kind)
        for match in EMAIL.finditer(value):  # an address anywhere: its domain is the organisation's if personal
            if kind:
                self._learn_domain(match.group(2))

    def _learn_change(self, change: Any) -> None:
        """One of a user's provisioning log modifiedProperties: {"displayName": "name.givenName", "oldValue",
        "newValue"}; a value is text, or a JSON list of values as text."""
        if not isinstance(change, dict) or not isinstance(change.get("displayName"), str):
            return
        attribute = change["displayName"].lower()
        parts = [a for a in re.split(r"[.\[\]]", attribute) if a and " " not in a]
        name = parts[-1] if parts else ""
        if name == "value":
            kind = "phone" if attribute.startswith("phonenumbers") else "user" if attribute.startswith("emails") \
                else None
        else:
            kind = PERSONAL_FIELDS.get(name) or PERSON_ONLY_FIELDS.get(name)
        for side in ("oldValue", "newValue"):
            value = change.get(side)
            if not kind or not isinstance(value, str):
                continue
            try:
                parsed = json.loads(value)
            except ValueError:
                parsed = value
            for item in parsed if isinstance(parsed, list) else [parsed]:
                if isinstance(item, str):
                    self._learn_value(item, kind)

    def learn_domains(self, names: Iterable[str]) -> None:
        for name in names:
            self._learn_domain(name)

    def _learn_domain(self, domain: str) -> None:
        domain = domain.lower().rstrip(".")
        if _domain_ok(domain) and domain not in self.domains:
            self.domains[domain] = self._domain_pseudonym(domain)
            self._pattern = None

    def _learn_value(self, value: str, kind: str) -> None:
        text = value.strip()
        if text.lower() in NOT_PERSONAL or len(text) < 2:
            return
        if kind == "user" and ":" in text and "@" not in text:  # CloudTrail principalId "AROA…:session-name"
            text = text.rsplit(":", 1)[-1]
            if text.lower() in NOT_PERSONAL or len(text) < 2:
                return
        if IDENTIFIER.match(text):
            return
        if text.lower().startswith("smtp:"):
            text = text[5:]
        emails = list(EMAIL.finditer(text))
        if emails:
            for match in emails:
                self._learn_domain(match.group(2))
            return  # addresses are found by their shape in pass 2
        if kind == "ip":
            return  # addresses are found by their shape in pass 2
        substring = (" " in text and len(text) >= 5) or (kind == "user" and len(text) >= 4)
        table = self.tokens if substring else self.exact
        canonical = text.lower()
        if canonical not in table:
            for spelling in {canonical, json.dumps(canonical)[1:-1], json.dumps(canonical, ensure_ascii=False)[1:-1]}:
                table.setdefault(spelling, (kind, canonical))
            self._pattern = None

    def learn_answers(self, answers: Iterable[Any]) -> None:
        for answer in answers:
            self.learn(answer)
        self._learn_tenant_domains(answers)

    def _learn_tenant_domains(self, answers: Iterable[Any]) -> None:
        """/organization's verifiedDomains and /domains: the tenant's own domains, personal data or not."""
        def walk(value: Any) -> None:
            if isinstance(value, dict):
                for key, item in value.items():
                    if key == "verifiedDomains" and isinstance(item, list):
                        self.learn_domains(d.get("name", "") for d in item if isinstance(d, dict))
                    else:
                        walk(item)
            elif isinstance(value, list):
                for item in value:
                    walk(item)

        for answer in answers:
            walk(answer)

    # ------------------------------------------------------------------------------------------------ pass 2

    def apply(self, value: Any) -> Any:
        """The same structure with every string pseudonymised (dict keys are kept: they are field names)."""
        if isinstance(value, dict):
            return {key: self.apply(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.apply(item) for item in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def text(self, value: str) -> str:
        whole = self.exact.get(value.strip().lower())
        if whole:
            return _styled(value.strip(), self._pseudonym(*whole))
        if value.lower().startswith("smtp:") and "@" in value:
            return value[:5] + self.text(value[5:])
        value = EMAIL.sub(lambda m: _styled(m.group(0), self._email(m.group(1), m.group(2))), value)
        value = IPV4.sub(lambda m: self._ip(m.group(0)), value)
        value = IPV6.sub(lambda m: self._ip(m.group(0)), value)
        pattern = self._compiled()
        if pattern is not None:
            value = pattern.sub(self._replace_token, value)
        if self.exact and ('"' in value or "'" in value):
            for quote in ('"', "'"):  # JSON text and OData literals; one quote kind at a time keeps them paired
                if quote in value:
                    value = re.sub(f"{quote}([^{quote}]{{1,200}}){quote}", self._replace_literal, value)
        return value

    def _compiled(self) -> re.Pattern | None:
        if self._pattern is None:
            alternatives = sorted(set(self.tokens) | set(self.domains), key=len, reverse=True)
            if not alternatives:
                return None
            body = _trie(alternatives)
            self._pattern = re.compile(rf"(?<!{WORD_EDGE})(?:{body})(?!{WORD_EDGE})", re.IGNORECASE)
        return self._pattern

    def _replace_token(self, match: re.Match) -> str:
        found = match.group(0)
        lowered = found.lower()
        if lowered in self.domains:
            return self.domains[lowered]
        return _styled(found, self._pseudonym(*self.tokens[lowered]))

    def _replace_literal(self, match: re.Match) -> str:
        quote, inner = match.group(0)[0], match.group(1)
        known = self.exact.get(inner.lower())
        return f"{quote}{_styled(inner, self._pseudonym(*known))}{quote}" if known else match.group(0)

    # ------------------------------------------------------------------------------------------------ pseudonyms

    def _digest(self, kind: str, value: str, length: int = 8) -> str:
        return hmac.new(self._key, f"{kind}:{value.lower()}".encode(), hashlib.sha256).hexdigest()[:length]

    def _pseudonym(self, kind: str, value: str) -> str:
        digest = self._digest(kind, value)
        if kind == "name":
            return f"Person {digest[:6]}"
        if kind == "phone":
            number = int(digest, 16) % 10**7
            return f"+1 555 {number:07d}"  # 555: the numbering plan's fictional range
        return f"{kind}-{digest}"

    def _domain_pseudonym(self, domain: str) -> str:
        digest = self._digest("domain", domain, 6)
        if domain.endswith(".onmicrosoft.com"):  # keep what Entra's initial domain looks like
            return f"tenant-{digest}.onmicrosoft.com"
        return f"org-{digest}.example"

    def _email(self, local: str, domain: str) -> str:
        lowered = domain.lower().rstrip(".")
        # A domain met only inside an address (a guest's home domain) is replaced there too, the same way, but
        # not learned: what is replaced must not depend on the order strings are met in.
        pseudo_domain = self.domains.get(lowered) or (self._domain_pseudonym(lowered) if _domain_ok(lowered)
                                                      else lowered)
        guest = GUEST_MARK if GUEST_MARK.lower() in local.lower() else ""
        base = local[: local.lower().index(GUEST_MARK.lower())] if guest else local
        if guest and "_" in base:  # a guest's UPN holds their own address: alice_contoso.com#EXT#
            own, _, own_domain = base.rpartition("_")
            own_pseudo = self._email(own, own_domain).replace("@", "_") if "." in own_domain else None
            if own_pseudo:
                return f"{own_pseudo}{guest}@{pseudo_domain}"
        return f"user-{self._digest('user', base)}{guest}@{pseudo_domain}"

    def _ip(self, text: str) -> str:
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            return text
        if address.is_loopback or address.is_unspecified:
            return text
        digest = bytes.fromhex(self._digest("ip", str(address), 12))
        if address.version == 4:
            return f"10.{digest[0]}.{digest[1]}.{digest[2] or 1}"
        return f"2001:db8:{digest[0]:x}{digest[1]:02x}::{digest[2]:x}{digest[3]:02x}"


def _about_a_user(log: dict) -> bool:
    """A provisioning log entry about a user (not a group): its source or target identity says so."""
    identities = [log.get("sourceidentity"), log.get("targetidentity")]
    return any(isinstance(i, dict) and str(i.get("identityType", "")).lower() == "user" for i in identities)


def _styled(original: str, pseudonym: str) -> str:
    """The pseudonym with the capitalisation of what it replaces: all upper, first letter upper, or as is."""
    letters = [c for c in original if c.isalpha()]
    if letters and all(c.isupper() for c in letters) and len(letters) > 1:
        return pseudonym.upper()
    if original[:1].isupper():
        return pseudonym[:1].upper() + pseudonym[1:]
    if original[:1].islower():
        return pseudonym[:1].lower() + pseudonym[1:]
    return pseudonym


def _trie(words: list[str]) -> str:
    """One regular expression matching any of `words`, as a trie: thousands of names stay fast to search."""
    root: dict = {}
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def render(node: dict) -> str:
        ends = "" in node
        branches = [re.escape(char) + render(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 and not ends else "(?:" + "|".join(branches) + ")"
        return body + ("?" if ends else "")

    return render(root)
