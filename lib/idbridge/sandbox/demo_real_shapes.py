"""The generator of scenarios/demo-real-shapes.yaml: Northwind Analytics served the way a real tenant looks.

    idbridge dev make-demo --variant real-shapes            # rewrites scenarios/demo-real-shapes.yaml
    idbridge dev make-demo --variant real-shapes --check    # exit 1 if the file differs from what this writes

The same staff as the demo (`demo_scenario`: same pools, same seed), without the demo's catalogue of planted
faults, and with the shapes real tenants have that the demo does not show (issue 12):
- Conditional Access enforcing MFA through authentication strengths (builtInControls empty), a policy targeting
  directory roles (includeUsers empty), one with grantControls null (session controls only) and one with a
  custom strength that does not satisfy MFA;
- the SAML app signed with the tenant's own certificate, added the documented custom way (customKeyIdentifier
  a SHA-256; the certificate only on a single-object $select=keyCredentials read);
- reply URLs in the <region>.signin.aws form, for the primary and an additional Region;
- a SAML response AWS refused (ExternalIdPDirectoryLogin Failure) for someone Entra let in;
- SCIM reads in CloudTrail next to the writes: the token is 75 days old (the initial cycle is inside CloudTrail's
  90 days) and provisioning was restarted several times (each restart re-reads every object in scope);
- people who never signed in (0001-01-01T00:00:00Z) and nothing registered ("" preferred method).

It plants only the faults a reviewer would expect here (the list in `faults()`), beside the counterparts that must
stay silent: the custom certificate is matched (its expiry is what is reported, never "matches none"), the
strength-based policy counts as MFA (no access.no_ca_mfa), the role-targeted one is "not resolved", not
"includes nobody", and the additional Region that has its signin.aws reply URL is not reported.
`tests/kit/test_real_shapes.py` runs it through collect and evaluate and compares the findings with this list.
"""

from __future__ import annotations

import random

import yaml

from idbridge.core.paths import SCENARIOS_DIR
from idbridge.saml.urls import regional_acs_url
from idbridge.sandbox.demo_scenario import (APP_ID, APP_NAME, DEFAULT_DOMAIN, DOMAIN, EXTRA_REGION, FAILURES,
                                            MANAGEMENT_ACCOUNT, OFFICE_IPS, REGION, SEED, SERVICE_CONTROL_POLICIES,
                                            TENANT_ID, People, render_conditional_access, render_rows, render_scps,
                                            group_entry, unique_people,
                                            accounts, assign_employee_ids, base_person, build_people,
                                            expected_data, flow, newest_sign_in_fix, permission_sets, scalar,
                                            upn_of, user_line, wrapped_list, ALL, PROD, WORKLOADS)

OUT = SCENARIOS_DIR / "demo-real-shapes.yaml"
SECOND_EXTRA_REGION = "us-east-1"  # enabled last month; its reply URL was never added (planted)
GLOBAL_ADMIN = "62e90394-69f5-4237-9190-012177145e10"  # directory role template ids (Entra built-in roles)
SECURITY_ADMIN = "194ae4cb-b126-40b2-bd5b-6091b380977d"
CERT_NAME = "CN=northwind-aws-saml"


def planted_people(rng: random.Random, people: People) -> None:
    phones: dict[str, int] = {"lon": 700, "ber": 700, "lis": 700}

    def unique(given: str, surname: str) -> None:
        # The staff are drawn from name pools: a planted person must not share a colleague's UPN.
        if upn_of(given, surname).split("@")[0] in {p["upn"].split("@")[0] for p in people.rows}:
            raise RuntimeError(f"demo_real_shapes: {given} {surname} is already a member of staff")

    def named(key, given, surname, dept, team, title, office, comment, **extra):
        unique(given, surname)
        person = base_person(rng, given, surname, dept, team, title, office, phones, mobile_only=False)
        person.update(extra)
        person["_comment"] = comment
        return people.add(person, key)

    named("new_joiner", "Tiago", "Mendonça", "Data & Analytics", "Analytics", "Data Analyst", "lis",
          "joined today, added to AWS-Data-ReadOnly after the last cycle: Entra lets him in, AWS refuses the "
          "SAML response (no such user in Identity Center yet)",
          created="now-70m", last_sign_in="now-12m", last_non_interactive_sign_in="now-10m", idc={"present": False})
    named("never", "Chidinma", "Okwuosa", "Engineering", "Platform", "Platform Engineer", "lon",
          "starts next week; added to AWS-NonProd-Admins ahead of her first day: holds access, never signed in "
          "(too new to be stale), nothing registered", created="now-5d", mfa_registered=False, mfa_methods=[])
    named("dormant", "Rupert", "Ainsworth", "Engineering", "Product", "Software Engineer", "lon",
          "account made 240 days ago for a hire who never started; still in AWS-Developers: never signed in, "
          "nothing registered", created="now-240d", mfa_registered=False, mfa_methods=[])
    for key in ("never", "dormant"):  # never signed in: Graph says 0001-01-01T00:00:00Z
        for field in ("last_sign_in", "last_non_interactive_sign_in"):
            people[key].pop(field)
    for key, given, surname, office, mfa in (("contractor1", "Jarosław", "Kubiak", "lon", True),
                                             ("contractor2", "Amara", "Diallo", "lis", False)):
        unique(given, surname)
        person = base_person(rng, given, surname, "Data & Analytics", "Contractors", "Contract Data Analyst",
                             office, phones, mobile_only=True)
        person["company_name"] = "Tailspin Data Services"
        person["created"] = f"now-{rng.randint(40, 90)}d"
        person["_contractor"] = True
        if mfa:
            person["_comment"] = ("Tailspin contractor: excluded from CA01, under CA05 (a custom strength that "
                                  "does not satisfy MFA); has MFA registered")
        else:
            person.update(mfa_registered=False, mfa_methods=[])
            person["_comment"] = ("Tailspin contractor: excluded from CA01, under CA05 (password or SMS alone "
                                  "satisfies it); never registered MFA")
        people.add(person, key)
    # Starting next week, no AWS access: never signed in, nothing registered (the shapes of both, no finding).
    for key, given, surname, office in (("starter1", "Yetunde", "Ogunleye", "lon"),
                                           ("starter2", "Matthias", "Eberhardt", "ber")):
        unique(given, surname)
        person = base_person(rng, given, surname, "Sales", "Sales", "Account Executive", office, phones,
                             mobile_only=False)
        person.update(created="now-3d", mfa_registered=False, mfa_methods=[])
        for field in ("last_sign_in", "last_non_interactive_sign_in"):
            person.pop(field)
        people.add(person, key)
    people.add({"upn": f"bg-admin01@{DEFAULT_DOMAIN}", "display_name": "Break Glass 01", "given_name": "Break",
                "surname": "Glass", "mail": f"bg-admin01@{DEFAULT_DOMAIN}", "created": "now-1500d",
                "last_sign_in": "now-41d", "last_non_interactive_sign_in": "now-41d",
                "mfa_methods": ["fido2SecurityKey"]}, "breakglass")


def build_groups(rng: random.Random, people: People) -> tuple[list[dict], dict]:
    rows = people.rows
    everyone = [p for p in rows if "_team" in p]
    staff = [p for p in everyone if not p.get("_contractor") and "employee_id" in p]
    special = {people.upn(k) for k in ("new_joiner", "never", "dormant", "starter1", "starter2")}
    plain = [p for p in staff if p["upn"] not in special]
    by_team = lambda team: [p for p in plain if p["_team"] == team]  # noqa: E731
    by_dept = lambda dept: [p for p in plain if p["department"] == dept]  # noqa: E731
    platform, product, dataplat = by_team("Platform"), by_team("Product"), by_team("Data Platform")
    analytics, security, it, finance = by_team("Analytics"), by_dept("Security"), by_dept("IT"), by_dept("Finance")
    enabled = lambda ps: [p for p in ps if p.get("account_enabled", True)]  # noqa: E731

    prod_admins = [people["head_platform"], *platform[2:5]]
    aws = {
        "AWS-Prod-Admins": prod_admins,
        "AWS-NonProd-Admins": [*prod_admins, people["em_platform"], *platform[5:9], dataplat[0], dataplat[1],
                               people["never"]],
        "AWS-Developers": [*product, *platform, people["dormant"]],
        "AWS-Sandbox-Users": enabled([p for p in plain if p["department"] == "Engineering"]),
        "AWS-Data-Engineers": [*dataplat, *[p for p in analytics if p["job_title"] == "Analytics Engineer"]],
        "AWS-Data-ReadOnly": [people["head_analytics"],
                              *[p for p in analytics if p["job_title"] != "Analytics Engineer"][:24],
                              people["new_joiner"]],
        "AWS-Data-Contractors": [people["contractor1"], people["contractor2"]],
        "AWS-Security-Audit": security,
        "AWS-Network-Admins": [*platform[9:12], it[0]],
        "AWS-Billing": [people["cfo"], people["controller"],
                        *[p for p in finance if p["job_title"] in ("FinOps Analyst", "Financial Controller")]],
        "AWS-ReadOnly-All": [people["cto"], people["head_platform"], people["em_platform"], people["ciso"],
                             *[p for p in product if p["job_title"] == "Engineering Manager"]],
        "AWS-Incident-Responders": [*platform[0:2], *platform[12:16]],
    }
    for name, members in aws.items():
        aws[name] = unique_people(members)
    g = group_entry

    groups = [
        g("All Employees", [p for p in rows if p.get("employee_id")], "Everyone with an employee id (dynamic)",
          mail_nickname="allemployees", mail_enabled=True,
          dynamic_rule='(user.userType -eq "Member") and (user.employeeId -ne null)', created="now-2800d"),
        g("Leadership Team", [people[k] for k in ("ceo", "cto", "cfo", "coo", "cro", "cpo", "head_platform",
                                                  "head_analytics", "ciso", "controller")],
          "Executives and heads of function", mail_nickname="leadership", mail_enabled=True, created="now-2700d"),
    ]
    for dept in ("Engineering", "Data & Analytics", "Security", "IT", "Finance", "Sales", "Marketing",
                 "Customer Success", "HR", "Legal", "Operations"):
        groups.append(g(f"Dept - {dept}", [p for p in everyone if p["department"] == dept
                                           and not p.get("_contractor")], created=f"now-{rng.randint(900, 2600)}d"))
    groups += [
        g("Contractors - Tailspin", [people["contractor1"], people["contractor2"]], "Tailspin Data Services",
          created="now-95d"),
        g("CA-Exclusions", [people["breakglass"]], "Excluded from Conditional Access (break glass)",
          created="now-1500d"),
    ]
    meta = {
        "AWS-Prod-Admins": "Administrator on production and core accounts",
        "AWS-NonProd-Admins": "Administrator on staging and dev accounts",
        "AWS-Developers": "PowerUser on dev/staging, read-only on prod",
        "AWS-Sandbox-Users": "Every enabled engineer: sandbox accounts (dynamic)",
        "AWS-Data-Engineers": "DataEngineer on the data accounts",
        "AWS-Data-ReadOnly": "Read-only on the data accounts",
        "AWS-Data-Contractors": "Read-only on data-staging for Tailspin's analysts (own CA policy, CA05)",
        "AWS-Security-Audit": "SecurityAudit everywhere",
        "AWS-Network-Admins": "NetworkAdmin on network and shared services",
        "AWS-Billing": "Billing console on the management account",
        "AWS-ReadOnly-All": "Read-only on all workload accounts (managers)",
        "AWS-Incident-Responders": "Read-only on platform-prod during incidents",
    }
    for name, members in aws.items():
        extra = {}
        if name == "AWS-Sandbox-Users":
            extra["dynamic_rule"] = '(user.department -eq "Engineering") and (user.accountEnabled -eq true)'
        groups.append(g(name, members, meta[name], created="now-600d", **extra))
    return groups, aws


def real_permission_sets() -> list[dict]:
    """The demo's permission sets without its planted ones: no 12-hour session, nothing left unprovisioned, the
    sandbox set bounded, no set assigned nowhere."""
    out = []
    for ps in permission_sets():
        if ps["name"] == "SupportUser":
            continue
        ps = dict(ps)
        ps.pop("not_reprovisioned_in", None)
        if ps["name"] == "DataEngineer":
            ps["session_duration"] = "PT4H"
        if ps["name"] == "DeveloperSandbox":  # PowerUser alone: no role creation, nothing privileged
            ps.pop("inline_policy")
            ps["description"] = "Sandbox accounts: PowerUser"
        out.append(ps)
    return out


def account_assignments() -> list[dict]:
    def a(group, ps, accts):
        return {"group": group, "permission_set": ps, "accounts": list(accts)}

    return [
        a("AWS-Prod-Admins", "AdministratorAccess", PROD),
        a("AWS-NonProd-Admins", "AdministratorAccess", ["platform-staging", "data-staging", "dev-shared"]),
        a("AWS-Developers", "PowerUser", ["platform-staging", "dev-shared"]),
        a("AWS-Developers", "ReadOnly", ["platform-prod", "insights-prod"]),
        a("AWS-Sandbox-Users", "DeveloperSandbox", ["sandbox-01", "sandbox-02"]),
        a("AWS-Data-Engineers", "DataEngineer", ["data-prod", "data-staging"]),
        a("AWS-Data-ReadOnly", "ReadOnly", ["data-prod", "data-staging"]),
        a("AWS-Data-Contractors", "ReadOnly", ["data-staging"]),
        a("AWS-Security-Audit", "SecurityAudit", ALL),
        a("AWS-Network-Admins", "NetworkAdmin", ["network", "shared-services"]),
        a("AWS-Billing", "Billing", ["northwind-management"]),
        a("AWS-ReadOnly-All", "ReadOnly", WORKLOADS),
        a("AWS-Incident-Responders", "ReadOnly", ["platform-prod"]),
    ]


def sign_ins(rng: random.Random, people: People, aws_groups: dict) -> tuple[list[dict], list[dict]]:
    """Every holder signs in on both sides within the last 30 days (an Entra success, then a UserAuthentication
    six seconds later from the same IP; some Entra failures with real AADSTS codes); then the one refusal."""
    holders: dict[str, dict] = {}
    for members in aws_groups.values():
        for person in members:
            holders[person["upn"]] = person
    for key in ("new_joiner", "never", "dormant"):
        holders.pop(people.upn(key))
    events: list[tuple[float, dict, dict | None]] = []
    for upn, person in holders.items():
        count = rng.choice([1, 2, 2, 3, 3, 4, 5]) + (rng.randint(0, 3) if person["department"] == "Engineering"
                                                     else 0)
        text = person["last_sign_in"]
        last_hours = int(text[4:-1]) * (24 if text.endswith("d") else 1)
        latest = max(30, last_hours * 60 + rng.randint(5, 90))
        for minutes in sorted({latest, *[rng.randint(latest, 30 * 1440 - 60) for _ in range(count - 1)]}):
            office = person.get("_office", "lon")
            ip = (f"198.51.100.{rng.randint(150, 250)}" if rng.random() < 0.25
                  else OFFICE_IPS[office].format(rng.randint(10, 40)))
            if rng.random() < 0.07:
                code, reason = rng.choice(FAILURES)
                failure = {"user": upn, "at": f"now-{minutes + 2}m", "status": "failure", "error_code": code,
                           "failure_reason": reason, "mfa": False, "ip": ip}
                ca = {53003: "failure", 50126: "notApplied"}.get(code)
                if ca:
                    failure["conditional_access"] = ca
                events.append((minutes + 2, failure, None))
            events.append((minutes, {"user": upn, "at": f"now-{minutes}m", "ip": ip},
                           {"user": upn, "at": f"now-{minutes - 0.1:.1f}m", "ip": ip}))
    # Tiago: Entra lets him in (he is in AWS-Data-ReadOnly), Identity Center has no such user yet: AWS refuses the
    # SAML response (ExternalIdPDirectoryLogin Failure, AWS's own errorMessage).
    ip = OFFICE_IPS["lis"].format(17)
    tiago = people.upn("new_joiner")
    for minutes in (14, 12):
        events.append((minutes, {"user": tiago, "at": f"now-{minutes}m", "ip": ip},
                       {"user": tiago, "at": f"now-{minutes - 0.1:.1f}m", "status": "failure", "ip": ip}))
    events.sort(key=lambda e: (e[0], e[1]["user"]))
    return [e[1] for e in events], [e[2] for e in events if e[2]]


def faults(people: People) -> list[dict]:
    u = lambda key: "user:" + people.upn(key)  # noqa: E731
    app = "app:" + APP_NAME

    def f(check, subject, note):
        return {"check": check, "subject": subject, "note": note}

    return [
        f("saml.certificate_expiry", app, f"the active signing certificate, the tenant's own ({CERT_NAME}, added "
                                          "as a custom signing key), expires in 20 days"),
        f("saml.reply_url_missing", app, f"{SECOND_EXTRA_REGION} was added to Identity Center; its ACS URL is not "
                                         f"among the reply URLs ({REGION} and {EXTRA_REGION} have theirs)"),
        f("reconcile.missing_in_idc", u("new_joiner"), "added after the last cycle; AWS refuses his sign-ins"),
        f("reconcile.group_membership", "group:AWS-Data-ReadOnly",
          "Tiago Mendonça is a direct member in Entra, not yet in Identity Center"),
        f("saml.sign_in_refused", u("new_joiner"), "Entra let him in; AWS refused his SAML responses (not "
                                                   "provisioned yet)"),
        f("access.no_mfa", u("contractor2"), "no MFA method registered; excluded from CA01, and CA05's custom "
                                             "strength is satisfied by a password alone"),
        f("access.no_mfa", u("never"), "added to AWS-NonProd-Admins before her first day; nothing registered"),
        f("access.no_mfa", u("dormant"), "never signed in, nothing registered; in AWS-Developers"),
        f("access.stale_user", u("dormant"), "created 240 days ago, never signed in, still holds access"),
        f("access.privileged_permission_set", "permission_set:AdministratorAccess", "AdministratorAccess policy"),
        f("access.privileged_prod_access", "group:AWS-Prod-Admins",
          "AdministratorAccess on every production account (expected, to be reviewed)"),
        f("aws.no_delegated_admin", f"account:{MANAGEMENT_ACCOUNT}",
          "Identity Center is administered from the management account; no delegated administrator"),
        f("access.management_account_assignment", f"account:{MANAGEMENT_ACCOUNT}",
          "Billing (AWS-Billing) in northwind-management"),
    ]


def build() -> tuple[dict, People]:
    rng = random.Random(SEED)
    people = build_people(rng)
    planted_people(rng, people)
    assign_employee_ids(people)
    people.rows.sort(key=lambda person: "_comment" in person)
    groups, aws_groups = build_groups(rng, people)
    entra_sign_ins, aws_sign_ins = sign_ins(rng, people, aws_groups)
    newest_sign_in_fix(people, entra_sign_ins)

    from idbridge.sandbox.derived import acs_id
    from idbridge.sandbox.scenario import Scenario

    skeleton = Scenario.model_validate({"scenario": "x", "tenant": {"id": TENANT_ID, "display_name": "x",
                                                                   "default_domain": DEFAULT_DOMAIN},
                                        "aws": {"management_account": MANAGEMENT_ACCOUNT}})
    access_groups = [name for name in aws_groups if name != "AWS-Data-Contractors"]
    app = {
        "display_name": APP_NAME, "app_id": APP_ID, "sso_mode": "saml",
        "reply_urls": [regional_acs_url(region, acs_id(skeleton)) for region in (REGION, EXTRA_REGION)],
        "signing_certificates": [{"display_name": CERT_NAME, "start": "now-710d", "end": "now+20d", "active": True,
                                  "custom": True, "uploaded_to_aws": "now-709d"}],
        "assignments": {"groups": list(aws_groups), "users": [people.upn("cto")]},
        "provisioning": {"status": "Active", "scope": "assigned", "token_valid": True, "token_created": "now-75d",
                         "last_cycle": "now-25m", "notification_email": f"cloud-platform@{DOMAIN}",
                         "restarts": ["now-61d", "now-46d", "now-30d", "now-16d", "now-8d", "now-2d"]},
    }
    conditional_access = [
        {"display_name": "CA01 - Require MFA for AWS", "include_applications": ["aws"],
         "include_groups": access_groups, "exclude_groups": ["CA-Exclusions", "AWS-Data-Contractors"],
         "grant_controls": [], "authentication_strength": "mfa"},
        {"display_name": "CA02 - Block legacy authentication", "include_applications": ["All"],
         "include_users": ["All"], "exclude_groups": ["CA-Exclusions"], "grant_controls": ["block"]},
        {"display_name": "CA03 - Phishing-resistant MFA for admin roles", "include_applications": ["All"],
         "include_roles": [GLOBAL_ADMIN, SECURITY_ADMIN], "exclude_groups": ["CA-Exclusions"],
         "grant_controls": [], "authentication_strength": "phishingResistantMfa"},
        {"display_name": "CA04 - Sign-in frequency for AWS", "include_applications": ["aws"],
         "include_users": ["All"], "exclude_groups": ["CA-Exclusions"], "grant_controls": []},
        {"display_name": "CA05 - Contractors: sign-in for AWS", "include_applications": ["aws"],
         "include_groups": ["AWS-Data-Contractors"], "grant_controls": [],
         "authentication_strength": {"display_name": "Contractor sign-in",
                                     "allowed_combinations": ["password", "sms", "password,sms"]}},
    ]
    aws = {
        "management_account": MANAGEMENT_ACCOUNT,
        "service_control_policies": SERVICE_CONTROL_POLICIES,
        "identity_center": {"region": REGION, "extra_regions": [EXTRA_REGION, SECOND_EXTRA_REGION],
                            "instance_name": "northwind", "identity_source": "external_idp"},
        "accounts": accounts(),
        "permission_sets": real_permission_sets(),
        "account_assignments": account_assignments(),
        "sign_ins": aws_sign_ins,
        "cloudtrail": [
            {"name": "AddRegion", "source": "sso.amazonaws.com", "at": "now-62d", "user": people.upn("head_platform"),
             "ip": "203.0.113.21", "detail": {"regionName": EXTRA_REGION}},
            {"name": "AddRegion", "source": "sso.amazonaws.com", "at": "now-33d", "user": people.upn("head_platform"),
             "ip": "203.0.113.21", "detail": {"regionName": SECOND_EXTRA_REGION}},
        ],
    }
    doc = {
        "scenario": "Northwind Analytics (real shapes)",
        "description": " ".join(DESCRIPTION_LINES),
        "tenant": {"id": TENANT_ID, "display_name": "Northwind Analytics", "default_domain": DEFAULT_DOMAIN,
                   "domains": [DOMAIN], "licence": "P2"},
        "entra": {"users": people.rows, "groups": groups, "aws_app": app, "conditional_access": conditional_access,
                  "sign_ins": entra_sign_ins},
        "aws": aws,
        "engagement": {"sod_conflicts": [["AdministratorAccess", "SecurityAudit"]]},
        "faults": faults(people),
    }
    return doc, people


DESCRIPTION_LINES = [
    "Northwind Analytics as a real tenant serves it: MFA through authentication strengths, a role-targeted and a",
    "session-only policy, the tenant's own SAML signing certificate, reply URLs in the <region>.signin.aws form,",
    "SCIM reads in CloudTrail, a sign-in AWS refused. Only the faults a reviewer would expect are planted.",
]


def render(doc: dict, people: People) -> str:
    out: list[str] = []
    w = out.append
    w("# Northwind Analytics, real shapes: the demo organisation as a real tenant serves it (issue 12).")
    w("# GENERATED by `idbridge dev make-demo --variant real-shapes` (lib/idbridge/sandbox/demo_real_shapes.py):")
    w("# edit the generator, then run it; do not edit this file by hand. Faults are listed under `faults:`.")
    w(f"scenario: {scalar(doc['scenario'])}")
    w("description: >-")
    for line in DESCRIPTION_LINES:
        w("  " + line)
    w("")
    w("tenant:")
    for key, value in doc["tenant"].items():
        w(f"  {key}: {flow(value)}")
    w("")
    w("entra:")
    w("  users:")
    anchors: set = set()
    for person in people.rows:
        if "_comment" in person:
            w(f"    # {person['_comment']}")
        w("    - " + user_line(person, anchors))
    w("")
    w("  groups:")
    for group in doc["entra"]["groups"]:
        head = {k: v for k, v in group.items() if k not in ("display_name", "members")}
        w(f"    - display_name: {scalar(group['display_name'])}")
        for key, value in head.items():
            w(f"      {key}: {flow(value)}")
        w(f"      members: {wrapped_list(group['members'], 8)}")
    w("")
    app = doc["entra"]["aws_app"]
    w("  aws_app:")
    for key in ("display_name", "app_id", "sso_mode"):
        w(f"    {key}: {scalar(app[key])}")
    w(f"    # The <region>.signin.aws form for {REGION} and {EXTRA_REGION}; FAULT: none for {SECOND_EXTRA_REGION}.")
    w(f"    reply_urls: {wrapped_list(app['reply_urls'], 6)}")
    w("    # The tenant's own certificate, added as a custom signing key (PATCH keyCredentials / passwordCredentials);")
    w("    # FAULT: it expires in 20 days.")
    render_rows(w, "signing_certificates", app["signing_certificates"], indent="    ")
    w("    assignments:")
    w(f"      groups: {wrapped_list(app['assignments']['groups'], 8)}")
    w(f"      users: {flow(app['assignments']['users'])}")
    w("    # The token is 75 days old: the initial cycle and six restarts (each re-reading every object in scope)")
    w("    # are inside CloudTrail's 90 days, so SCIM reads sit next to the writes.")
    w("    provisioning:")
    for key, value in app["provisioning"].items():
        w(f"      {key}: {flow(value)}")
    w("")
    w("  # CA01 and CA03 require MFA through authentication strengths (builtInControls empty); CA03 targets roles;")
    w("  # CA04 has session controls only (grantControls null); CA05's custom strength does not satisfy MFA.")
    render_conditional_access(w, doc["entra"]["conditional_access"])
    w("")
    render_rows(w, "sign_ins", doc["entra"]["sign_ins"])
    w("")
    aws = doc["aws"]
    w("aws:")
    w(f"  management_account: {scalar(aws['management_account'])}")
    render_scps(w, aws)
    w("  identity_center:")
    for key, value in aws["identity_center"].items():
        w(f"    {key}: {flow(value)}")
    render_rows(w, "accounts", aws["accounts"])
    render_rows(w, "permission_sets", aws["permission_sets"])
    render_rows(w, "account_assignments", aws["account_assignments"])
    w("  # Access-portal sign-ins (UserAuthentication); Tiago's refused SAML responses (ExternalIdPDirectoryLogin).")
    render_rows(w, "sign_ins", aws["sign_ins"])
    render_rows(w, "cloudtrail", aws["cloudtrail"])
    w("")
    w("engagement:")
    w(f"  sod_conflicts: {flow(doc['engagement']['sod_conflicts'])}")
    w("")
    w("faults:")
    for fault in doc["faults"]:
        w(f"  - {flow(fault)}")
    return "\n".join(out) + "\n"


def render_text() -> str:
    """The text of scenarios/demo-real-shapes.yaml."""
    doc, people = build()
    text = render(doc, people)
    if yaml.safe_load(text) != expected_data(doc):  # the hand-rolled emitter must say exactly what was built
        raise RuntimeError("demo_real_shapes: rendered YAML does not read back as the data that was built")
    return text
