"""The shapes of the Identity Center SAML URLs, so that checks and metadata comparisons read them the same way (and
the sandbox builds them the same way).

Shared reference §1a: issuer URL `https://<region>.signin.aws.amazon.com/platform/saml/<store id>` (the same for
IPv4 and dual-stack), ACS URL `https://<region>.signin.aws.amazon.com/platform/saml/acs/<id>` (one per Region;
the dual-stack metadata uses a `signin.aws` host), sign-on URL `https://portal.sso.<region>.amazonaws.com/saml/
assertion/<id>`. The ACS and sign-on ids cannot be read by any API, so without the SP metadata only the host,
Region and path shape can be compared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

REGION = r"[a-z]{2}(?:-[a-z]+)+-\d+"
_REGION_RE = re.compile(rf"^{REGION}$")
WILDCARD_REPLY_URL = "https://*.signin.aws.amazon.com/platform/saml/acs/*"
# Where Entra really puts the wildcard when the gallery app is instantiated: the home page (application
# web.homePageUrl, service principal homepage), with no reply URLs at all (Graph SAML SSO tutorial, instantiate).
INSTANTIATED_HOME_PAGE_URL = WILDCARD_REPLY_URL + "?metadata=awssinglesignon|ISV9.1|primary|z"
IAM_FEDERATION_URL = "https://signin.aws.amazon.com/saml"  # IAM SAML federation, not Identity Center (§4)
EMAIL_FORMAT = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
ENTRA_LOGIN_ROOT = "https://login.microsoftonline.com"

# ACS hosts: <region>.signin.aws.amazon.com (IPv4) and the dual-stack signin.aws family, with or without an
# "sso" label (<region>.signin.aws, <region>.sso.signin.aws).
_ACS_SUFFIXES = ("signin.aws.amazon.com", "signin.aws")
_ACS_PATH = re.compile(r"^/platform/saml/acs/(?P<id>[^/*?#]+)/?$")
_ISSUER_PATH = re.compile(r"^/platform/saml/(?P<store>[^/*?#]+)$")
_PORTAL_ASSERTION_HOST = re.compile(rf"^portal\.sso\.(?P<region>{REGION})\.(?:amazonaws\.com|api\.aws)$")
_PORTAL_ASSERTION_PATH = re.compile(r"^/saml/assertion/[^/]+/?$")
_AWSAPPS_HOST = re.compile(r"^(?P<label>[a-z0-9-]+)\.awsapps\.com$")
_STORE_ID = re.compile(r"^d-[0-9a-f]{10}$")
# Regional access portal endpoints of an instance: ssoins-<id>.<region>.portal.amazonaws.com (multi-Region
# docs) and the dual-stack ssoins-<id>.portal.<region>.app.aws.
_SSOINS_HOSTS = (re.compile(rf"^(?P<ins>ssoins-[0-9a-z]+)\.(?P<region>{REGION})\.portal\.amazonaws\.com$"),
                 re.compile(rf"^(?P<ins>ssoins-[0-9a-z]+)\.portal\.(?P<region>{REGION})\.app\.aws$"))


# Partitions other than the commercial one ("aws"): their Identity Center SAML hosts (GovCloud
# signin.amazonaws-us-gov.com, the China Regions' hosts) are not among the documented shapes this module knows.
_PARTITIONS = (("us-gov-", "aws-us-gov"), ("cn-", "aws-cn"), ("us-iso-", "aws-iso"), ("us-isob-", "aws-iso-b"),
               ("eu-isoe-", "aws-iso-e"), ("us-isof-", "aws-iso-f"))
UNSUPPORTED_HOSTS = ("amazonaws-us-gov.com", "amazonaws.com.cn", "amazonaws.cn")


def partition_of(region: str | None, instance_arn: str | None = None) -> str:
    """The AWS partition of a Region (or of an instance ARN, arn:<partition>:sso:::instance/...)."""
    if instance_arn and instance_arn.startswith("arn:"):
        return instance_arn.split(":", 2)[1] or "aws"
    for prefix, partition in _PARTITIONS:
        if (region or "").startswith(prefix):
            return partition
    return "aws"


def unsupported_partition_host(url: str | None) -> bool:
    """A URL on a GovCloud / China sign-in host: another partition, not a malformed commercial URL."""
    parts = _split(url or "")
    host = (parts.hostname or "") if parts else ""
    return any(host == h or host.endswith("." + h) for h in UNSUPPORTED_HOSTS)


def text(value: object) -> str | None:
    """A table cell as text, None for None/NaN/empty (pandas 3 string columns hold NaN for missing)."""
    if isinstance(value, str):
        return value.strip() or None
    if value is None or (isinstance(value, float) and value != value):
        return None
    if type(value).__name__ in ("NAType", "NaTType") or hasattr(value, "__len__"):
        return None  # pd.NA / NaT; lists and arrays are not text
    return str(value)


def items(value: object) -> list[str]:
    """A list cell (Python list, numpy array after Parquet, None/NaN) as a list of non-empty strings."""
    if value is None or isinstance(value, (str, bytes, dict)):
        return [value.strip()] if isinstance(value, str) and value.strip() else []
    if not hasattr(value, "__iter__"):
        return []
    return [t for t in (text(v) for v in value) if t]


def issuer_url(region: str, store_id: str) -> str:
    return f"https://{region}.signin.aws.amazon.com/platform/saml/{store_id}"


def acs_url(region: str, acs_id: str) -> str:
    """The <region>.signin.aws.amazon.com ACS URL: documented as an alternative for the primary Region only, and not
    used for instances enabled from February 2026 (AWS multi-Region workforce access)."""
    return f"https://{region}.signin.aws.amazon.com/platform/saml/acs/{acs_id}"


def regional_acs_url(region: str, acs_id: str) -> str:
    """The ACS URL AWS documents for the primary and every additional Region: <region>.signin.aws."""
    return f"https://{region}.signin.aws/platform/saml/acs/{acs_id}"


def portal_assertion_url(region: str, token: str) -> str:
    """The access-portal sign-in URL Identity Center shows beside its SP metadata."""
    return f"https://portal.sso.{region}.amazonaws.com/saml/assertion/{token}"


def federation_metadata_url(tenant_id: str, app_id: str, root: str = ENTRA_LOGIN_ROOT) -> str:
    """Where Entra serves an enterprise app's SAML federation metadata (anonymous GET)."""
    return f"{root.rstrip('/')}/{tenant_id}/federationmetadata/2007-06/federationmetadata.xml?appid={app_id}"


def _split(url: str):
    try:
        parts = urlsplit(url.strip())
        return parts if parts.scheme and parts.hostname else None
    except ValueError:
        return None


@dataclass(frozen=True)
class IssuerUrl:
    region: str
    store_id: str


def parse_issuer(url: str | None) -> IssuerUrl | None:
    """An Identity Center issuer URL, or None when the value has another shape."""
    parts = _split(url or "")
    if not parts or parts.scheme != "https":
        return None
    host = parts.hostname or ""
    match = _ISSUER_PATH.match(parts.path)
    region = host.removesuffix(".signin.aws.amazon.com")
    if not match or region == host or not _REGION_RE.match(region) or parts.query or parts.fragment:
        return None
    return IssuerUrl(region, match["store"])


@dataclass(frozen=True)
class AcsUrl:
    region: str
    acs_id: str
    host: str

    @property
    def primary_only(self) -> bool:
        """<region>.signin.aws.amazon.com: valid for the primary Region only (the signin.aws forms are valid for
        every Region, <region>.sso.signin.aws being the dual-stack one)."""
        return self.host.endswith(".signin.aws.amazon.com")


def parse_acs(url: str | None) -> AcsUrl | None:
    """An Identity Center ACS URL in one of the documented host forms; None for anything else, including the
    instantiation wildcard (it matches no Region in particular)."""
    if not url or "*" in url:
        return None
    parts = _split(url)
    if not parts or parts.scheme != "https" or parts.query or parts.fragment:
        return None
    host = parts.hostname or ""
    match = _ACS_PATH.match(parts.path)
    suffix = next((s for s in _ACS_SUFFIXES if host.endswith("." + s)), None)
    if not match or suffix is None:
        return None
    labels = host[: -len(suffix) - 1].split(".")
    regions = [label for label in labels if _REGION_RE.match(label)]
    others = [label for label in labels if not _REGION_RE.match(label)]
    if len(regions) != 1 or others not in ([], ["sso"]) or (others and suffix != "signin.aws"):
        return None
    return AcsUrl(regions[0], match["id"], host)


def is_wildcard(url: str | None) -> bool:
    return bool(url) and "*" in url


@dataclass(frozen=True)
class LoginUrl:
    kind: str                       # portal_assertion, awsapps_start, ssoins_portal, iam_federation, other
    region: str | None = None
    store_id: str | None = None     # awsapps.com/start with a d-… label
    alias: str | None = None        # awsapps.com/start with a custom alias: cannot be tied to a store
    instance_id: str | None = None  # ssoins-…


def parse_login_url(url: str | None) -> LoginUrl | None:
    """Which access-portal URL a sign-on URL is; None when it is empty."""
    if not url:
        return None
    parts = _split(url)
    if not parts:
        return LoginUrl("other")
    host = (parts.hostname or "").lower()
    if host == "signin.aws.amazon.com" and parts.path.rstrip("/") == "/saml":
        return LoginUrl("iam_federation")
    match = _PORTAL_ASSERTION_HOST.match(host)
    if match and _PORTAL_ASSERTION_PATH.match(parts.path):
        return LoginUrl("portal_assertion", region=match["region"])
    match = _AWSAPPS_HOST.match(host)
    if match and parts.path.rstrip("/") in ("", "/start"):
        label = match["label"]
        return LoginUrl("awsapps_start", store_id=label) if _STORE_ID.match(label) else \
            LoginUrl("awsapps_start", alias=label)
    for pattern in _SSOINS_HOSTS:
        match = pattern.match(host)
        if match:
            return LoginUrl("ssoins_portal", region=match["region"], instance_id=match["ins"])
    return LoginUrl("other")


def instance_id_of(instance_arn: str | None) -> str | None:
    """`ssoins-…` from arn:aws:sso:::instance/ssoins-…"""
    if not instance_arn or "/" not in instance_arn:
        return None
    return instance_arn.rsplit("/", 1)[1] or None


def login_url_problem(url: str, store_id: str, regions: list[str], instance_id: str | None) -> str | None:
    """Why a sign-on URL is not this store's access portal, in words; None when it is (or cannot be told apart
    from it: a custom awsapps.com alias is not readable by API)."""
    login = parse_login_url(url)
    if login is None:
        return None
    where = ", ".join(regions)
    if login.kind == "iam_federation":
        return "it is the IAM SAML federation endpoint, not an Identity Center access portal URL"
    if login.kind == "portal_assertion" and login.region not in regions:
        return f"it is the access-portal sign-in URL of Region {login.region}; Identity Center runs in {where}"
    if login.kind == "awsapps_start" and login.store_id and login.store_id != store_id:
        return f"it is the access portal of identity store {login.store_id}; this instance's store is {store_id}"
    if login.kind == "ssoins_portal":
        if instance_id and login.instance_id != instance_id:
            return f"it is the access portal of instance {login.instance_id}; this instance is {instance_id}"
        if login.region not in regions:
            return f"it is the access portal in Region {login.region}; Identity Center runs in {where}"
    if login.kind == "other":
        return "it is not an AWS access portal URL (expected https://portal.sso.<region>.amazonaws.com/saml/" \
               "assertion/<id> or this store's awsapps.com/start URL)"
    return None
