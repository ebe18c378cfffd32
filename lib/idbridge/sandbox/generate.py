"""Generate large synthetic organisations for benchmarks: `idbridge sandbox generate`.

    idbridge sandbox generate --users 100000 --groups 5000 --accounts 1000 --permission-sets 300 \\
        --out scenarios/large.yaml

`generate_scenario()` returns a plain dict that validates as a Scenario (see scenario.py and docs/scenarios.md).
The same arguments and seed always give the same scenario. The shape follows what large tenants look like:

- users belong to departments; groups are department groups, team groups of heavy-tailed sizes (most a few
  dozen members, some thousands), a few dynamic groups and some nesting (never inside a group assigned to the
  AWS app, except where planted);
- about 20 % of the groups are assigned to the AWS app and carry the account assignments;
- accounts sit in OUs (Workloads/Prod, Workloads/NonProd, Sandbox, Security, Infrastructure) and belong to a
  department; permission sets are a common base plus department-specific sets, so that the number of distinct
  (account, permission set) pairs stays close to what real organisations have (a handful to a few dozen per
  account) rather than growing with the number of assignments;
- the number of (principal, account, permission set) assignments defaults to 12 per account;
- sign-ins: one Entra sign-in to the app and its AWS UserAuthentication for a sample of the users who hold access
  (at most `sign_ins`, default users // 10, at least 1,000). Users outside the sample have a recent Entra
  sign-in but no AWS sign-in in the scenario, so a check of AWS-side inactivity reports them;
- a few faults of each common kind (three by default) are planted and listed under `faults`; the users and
  groups they need (service accounts, consultants, admin accounts, contractors in a nested group, guests) are
  counted in the sizes asked, which the scenario meets exactly.
"""

from __future__ import annotations

import json
import random
import uuid
from pathlib import Path

DEPARTMENTS = [
    # name, short name, weight, titles
    ("Engineering", "Eng", 24, ["Software Engineer", "Senior Software Engineer", "Engineering Manager",
                                 "Staff Engineer", "QA Engineer"]),
    ("Platform", "Plat", 6, ["Platform Engineer", "Site Reliability Engineer", "Cloud Architect"]),
    ("Data", "Data", 8, ["Data Engineer", "Data Scientist", "Data Analyst", "Analytics Engineer"]),
    ("Security", "Sec", 3, ["Security Engineer", "Security Analyst", "GRC Analyst"]),
    ("IT", "IT", 4, ["IT Support Specialist", "Systems Administrator", "Identity Engineer"]),
    ("Finance", "Fin", 5, ["Accountant", "Financial Analyst", "FinOps Analyst", "Controller"]),
    ("Sales", "Sales", 14, ["Account Executive", "Sales Engineer", "Sales Manager", "SDR"]),
    ("Marketing", "Mkt", 6, ["Marketing Manager", "Content Strategist", "Designer"]),
    ("Customer Support", "Support", 12, ["Support Engineer", "Customer Success Manager", "Support Lead"]),
    ("Operations", "Ops", 6, ["Operations Analyst", "Logistics Coordinator", "Procurement Specialist"]),
    ("HR", "HR", 3, ["HR Business Partner", "Recruiter", "People Operations Specialist"]),
    ("Legal", "Legal", 2, ["Legal Counsel", "Paralegal", "Compliance Officer"]),
    ("Research", "RnD", 5, ["Research Scientist", "Research Engineer", "Lab Technician"]),
    ("Manufacturing", "Mfg", 6, ["Production Engineer", "Quality Engineer", "Plant Manager"]),
    ("Executive", "Exec", 1, ["Vice President", "Director", "Chief of Staff"]),
]

GIVEN = ("Oliver Amelia Noah Olivia Liam Emma Lucas Mia Elias Sofia Mateo Chloé Léa Jonas Zoë Björn Søren Ingrid "
         "Łukasz Zofia Tomáš Jiří Ayşe Çağla Emre Priya Arjun Ananya Rohan Wei Mei Hao Yuki Kenji Ji-woo Min-jun "
         "Chinedu Adaeze Kwame Ama Fatima Omar Leila Youssef João Inês Gonçalo María José Lucía Álvaro Siobhán "
         "Seán Niamh Dmitri Olga Anastasia Nikolai Giulia Matteo Francesca Hannah Lena Jürgen Jörg Maëlle Théo "
         "Amara Kofi Aditi Vikram Sanjay Meera Daniel Sarah James Grace Thomas Laura David Anna Michael Julia").split()
SURNAMES = ("Smith Jones Müller Schmidt García Fernández Martínez López Rossi Russo Silva Santos Ferreira Nowak "
            "Kowalczyk Wójcik Novák Dvořák Svoboda Yılmaz Kaya Şahin Öztürk Patel Sharma Iyer Gupta Chen Wang Zhang "
            "Liu Tanaka Suzuki Kim Park Okafor Mensah Asante Haddad Khalil Nguyễn Trần Johansson Andersen Østergaard "
            "Lindqvist Dubois Lefèvre Moreau Rousseau Murphy O'Brien Kelly Byrne Ivanova Petrov Schneider Fischer "
            "Weber Becker Hoffmann Schäfer Kovačević Horváth Nagy Papadopoulos Georgiou Costa Oliveira Pereira "
            "Brown Taylor Wilson Davies Evans Thomas Roberts Walker Wright Robinson Thompson White Hughes").split()
COMPANIES = [("Contoso Global", "contosoglobal", "contoso-global.com"),
             ("Fabrikam Industries", "fabrikamindustries", "fabrikam-industries.com"),
             ("Woodgrove Group", "woodgrovegroup", "woodgrove-group.com"),
             ("Tailspin Holdings", "tailspinholdings", "tailspin-holdings.com"),
             ("Proseware Systems", "prosewaresystems", "proseware-systems.com")]
ROLES = ["Deployer", "Operator", "Developer", "Analyst", "DBA", "Support", "Auditor", "Pipeline", "Observer",
         "Maintainer", "Release", "Debug", "Migration", "Network", "Storage", "Compute", "ML", "Streaming"]
TEAM_WORDS = ["Alpha", "Atlas", "Beacon", "Cobalt", "Delta", "Ember", "Falcon", "Granite", "Harbor", "Indigo",
              "Juniper", "Keystone", "Lumen", "Meridian", "Nimbus", "Orion", "Pioneer", "Quartz", "Raven", "Summit",
              "Tidal", "Umbra", "Vector", "Willow", "Zenith"]
APP_WORDS = ["billing", "checkout", "catalog", "search", "ledger", "payments", "identity", "analytics", "orders",
             "inventory", "pricing", "reports", "gateway", "mobile", "web", "etl", "ml", "crm", "portal", "iot"]
OUS = [("Workloads/Prod", "prod", 35), ("Workloads/NonProd", "staging", 18), ("Workloads/NonProd", "dev", 20),
       ("Sandbox", "dev", 15), ("Infrastructure", "prod", 5), ("Security", "prod", 3), ("Suspended", "dev", 4)]
MANAGED = ["AmazonS3ReadOnlyAccess", "AmazonS3FullAccess", "AmazonEC2FullAccess", "AmazonEC2ReadOnlyAccess",
           "AmazonDynamoDBFullAccess", "AmazonRDSFullAccess", "CloudWatchFullAccess", "AmazonSQSFullAccess",
           "AmazonSNSFullAccess", "AWSCloudFormationFullAccess", "AmazonAthenaFullAccess", "AWSGlueConsoleFullAccess",
           "AmazonKinesisFullAccess", "AmazonElastiCacheFullAccess", "AmazonECS_FullAccess", "AmazonEKSClusterPolicy",
           "AWSCodePipeline_FullAccess", "AWSCodeBuildDeveloperAccess", "AmazonRoute53ReadOnlyAccess",
           "AWSSupportAccess", "AmazonSageMakerFullAccess", "AWSXrayFullAccess"]
AWS_POLICY = "arn:aws:iam::aws:policy/"
PLANTED_USERS_PER_KIND = 6  # per fault kind count: service account, consultant, admin account, 2 contractors, guest


def _fold(text: str) -> str:
    import unicodedata

    text = text.translate(str.maketrans({"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "ß": "ss", "ı": "i", "'": "",
                                         " ": ""}))
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def generate_scenario(users: int, groups: int, accounts: int, permission_sets: int, seed: int = 1,
                      assignments: int | None = None, *, sign_ins: int | None = None,
                      faults_per_kind: int = 3) -> dict:
    """A scenario dict (validates as a Scenario) for an organisation of the given size; same seed, same dict.

    `assignments` is the target number of (principal, account, permission set) assignments (default 12 per
    account); `sign_ins` the number of users who get an Entra + AWS sign-in (default users // 10, at least 1,000);
    `faults_per_kind` how many of each planted fault."""
    if users < 50 or groups < 20 or accounts < 4 or permission_sets < 12:
        raise ValueError("generate at least 50 users, 20 groups, 4 accounts and 12 permission sets")
    rng = random.Random(seed)
    k = max(1, min(faults_per_kind, users // 20, groups // 10, permission_sets - 11))
    staff = users - PLANTED_USERS_PER_KIND * k  # the planted faults bring their own users and groups
    company, tenant_label, domain = COMPANIES[seed % len(COMPANIES)]
    default_domain = f"{tenant_label}.onmicrosoft.com"
    tenant_id = _uuid(rng)
    app_id = _uuid(rng)

    # ----------------------------------------------------------------------------------------- users
    dept_weights = [d[2] for d in DEPARTMENTS]
    folded_given = [_fold(g) for g in GIVEN]
    folded_surname = [_fold(s) for s in SURNAMES]
    seen: dict[str, int] = {}
    user_rows: list[dict] = []
    dept_of: list[int] = []
    by_dept: list[list[int]] = [[] for _ in DEPARTMENTS]
    dept_choices = rng.choices(range(len(DEPARTMENTS)), dept_weights, k=staff)
    for index in range(staff):
        gi = rng.randrange(len(GIVEN))
        si = rng.randrange(len(SURNAMES))
        local = f"{folded_given[gi]}.{folded_surname[si]}"
        count = seen.get(local, 0) + 1
        seen[local] = count
        if count > 1:
            local = f"{local}{count}"
        upn = f"{local}@{domain}"
        dept = dept_choices[index]
        name, _short, _w, titles = DEPARTMENTS[dept]
        row = {"upn": upn, "display_name": f"{GIVEN[gi]} {SURNAMES[si]}", "given_name": GIVEN[gi],
               "surname": SURNAMES[si], "mail": upn, "job_title": titles[index % len(titles)], "department": name,
               "employee_id": f"E{100000 + index}", "created": f"now-{rng.randint(30, 3600)}d",
               "last_sign_in": f"now-{rng.randint(1, 400)}h",
               "last_non_interactive_sign_in": f"now-{rng.randint(0, 48)}h"}
        if index % 3 == 0:
            row["mobile_phone"] = f"+1 555 {index // 10000 % 1000:03d} {index % 10000:04d}"
        user_rows.append(row)
        dept_of.append(dept)
        by_dept[dept].append(index)

    # ----------------------------------------------------------------------------------------- groups
    n_dept_groups = min(len(DEPARTMENTS), max(1, groups // 10))
    n_dynamic = max(1, groups // 100)
    n_team = groups - n_dept_groups - n_dynamic - k  # k nested contractor groups are planted below
    n_assigned = max(2, round(groups * 0.2))
    group_rows: list[dict] = []
    group_dept: list[int] = []
    for d in range(n_dept_groups):
        group_rows.append({"display_name": f"Dept - {DEPARTMENTS[d][0]}",
                           "members": [user_rows[i]["upn"] for i in by_dept[d]], "created": "now-2500d"})
        group_dept.append(d)
    for j in range(n_dynamic):  # one job title in one department: (department, title) pairs in turn
        d = j % len(DEPARTMENTS)
        dept_name, _short, _w, titles = DEPARTMENTS[d]
        title = titles[(j // len(DEPARTMENTS)) % len(titles)]
        group_rows.append({"display_name": f"Dyn - {dept_name} - {title} {j + 1}",
                           "description": f"Every {title} in {dept_name} (dynamic)",
                           "dynamic_rule": f'(user.department -eq "{dept_name}") and (user.jobTitle -eq "{title}")',
                           "members": [user_rows[i]["upn"] for i in by_dept[d] if user_rows[i]["job_title"] == title],
                           "created": "now-900d"})
        group_dept.append(d)
    # Team groups: heavy-tailed sizes (log-normal, median ~20), members drawn from the group's department.
    team_start = len(group_rows)
    assigned_idx = set(rng.sample(range(team_start, team_start + n_team), min(n_assigned, n_team)))
    target_memberships = staff * 3
    raw = [rng.lognormvariate(3.0, 1.1) for _ in range(n_team)]
    scale = target_memberships / max(1.0, sum(raw))
    team_dept = rng.choices(range(len(DEPARTMENTS)), dept_weights, k=n_team)
    for j in range(n_team):
        d = team_dept[j]
        pool = by_dept[d] or by_dept[0] or list(range(staff))
        size = max(1, min(len(pool), int(raw[j] * scale)))
        members = rng.sample(pool, size)
        members.sort()
        index = team_start + j
        short = DEPARTMENTS[d][1]
        word = TEAM_WORDS[j % len(TEAM_WORDS)]
        if index in assigned_idx:
            name = f"AWS-{short}-{word}-{ROLES[j % len(ROLES)]}-{j + 1}"
        else:
            name = f"{DEPARTMENTS[d][0]} - {word} {j + 1}"
        group_rows.append({"display_name": name, "members": [user_rows[i]["upn"] for i in members],
                           "created": f"now-{rng.randint(20, 2400)}d", "_members": members})
        group_dept.append(d)
    # Nesting: about 5 % of the non-assigned team groups contain one to three other non-assigned groups.
    plain = [i for i in range(team_start, len(group_rows)) if i not in assigned_idx]
    for i in plain:
        if rng.random() < 0.05:
            nested = [n for n in rng.sample(plain, min(3, len(plain))) if n < i]
            if nested:
                group_rows[i]["member_groups"] = [group_rows[n]["display_name"] for n in nested]
    assigned = sorted(assigned_idx)

    # ----------------------------------------------------------------------------------------- accounts
    account_rows: list[dict] = []
    account_dept: list[int] = []
    used_ids: set[str] = set()
    management = None
    ou_weights = [o[2] for o in OUS]
    for a in range(accounts):
        while True:
            account_id = str(rng.randrange(10 ** 11, 10 ** 12))
            if account_id not in used_ids:
                used_ids.add(account_id)
                break
        if a == 0:
            ou, env, name, d = "", "prod", f"{tenant_label}-management", 1
            management = account_id
        elif a == 1:
            ou, env, name, d = "Security", "prod", "log-archive", 3
        elif a == 2:
            ou, env, name, d = "Security", "prod", "security-tooling", 3
        else:
            ou, env, _ = rng.choices(OUS, ou_weights)[0]
            d = rng.choices(range(len(DEPARTMENTS)), dept_weights)[0]
            name = f"{DEPARTMENTS[d][1].lower()}-{rng.choice(APP_WORDS)}-{env}-{a:04d}"
        row = {"id": account_id, "name": name, "email": f"aws+{name}@{domain}", "ou": ou,
               "tags": {"environment": env, "owner": f"{DEPARTMENTS[d][1].lower()}-team@{domain}",
                        "cost-center": f"CC-{1000 + d * 10}"}}
        if ou == "Suspended":
            row["status"] = "SUSPENDED"
        account_rows.append(row)
        account_dept.append(d)
    prod_accounts = [i for i, r in enumerate(account_rows) if r["tags"]["environment"] == "prod"
                     and r.get("status") != "SUSPENDED"]
    nonprod_accounts = [i for i, r in enumerate(account_rows) if r["tags"]["environment"] != "prod"
                        and r.get("status") != "SUSPENDED"] or [len(account_rows) - 1]
    accounts_by_dept: list[list[int]] = [[] for _ in DEPARTMENTS]
    for i, d in enumerate(account_dept):
        if account_rows[i].get("status") != "SUSPENDED":
            accounts_by_dept[d].append(i)

    # ----------------------------------------------------------------------------------------- permission sets
    base = [
        {"name": "AdministratorAccess", "session_duration": "PT1H",
         "managed_policies": [AWS_POLICY + "AdministratorAccess"]},
        {"name": "PowerUser", "session_duration": "PT2H", "managed_policies": [AWS_POLICY + "PowerUserAccess"]},
        {"name": "ReadOnly", "session_duration": "PT2H", "managed_policies": [AWS_POLICY + "ReadOnlyAccess"]},
        {"name": "ViewOnly", "session_duration": "PT2H",
         "managed_policies": [AWS_POLICY + "job-function/ViewOnlyAccess"]},
        {"name": "Billing", "session_duration": "PT1H", "managed_policies": [AWS_POLICY + "job-function/Billing"]},
        {"name": "SecurityAudit", "session_duration": "PT1H", "managed_policies": [AWS_POLICY + "SecurityAudit"]},
        {"name": "NetworkAdmin", "session_duration": "PT1H",
         "managed_policies": [AWS_POLICY + "job-function/NetworkAdministrator"],
         "boundary": {"customer_managed": {"name": "NetworkAdminBoundary", "path": "/boundaries/"}}},
        {"name": "DataEngineer", "session_duration": "PT4H",
         "managed_policies": [AWS_POLICY + "AmazonAthenaFullAccess"],
         "customer_managed_policies": [{"name": "DataLakeAccess", "path": "/platform/"}]},
    ]
    ps_rows = list(base)
    ps_dept: list[int | None] = [None] * len(base)
    n_unused = k
    n_team_ps = permission_sets - len(base) - n_unused
    ps_by_dept: list[list[int]] = [[] for _ in DEPARTMENTS]
    for j in range(n_team_ps):
        d = j % len(DEPARTMENTS)
        name = f"{DEPARTMENTS[d][1]}-{ROLES[(j // len(DEPARTMENTS)) % len(ROLES)]}-{j + 1}"
        policies = [AWS_POLICY + p for p in rng.sample(MANAGED, rng.randint(1, 4))]
        row = {"name": name, "description": f"{DEPARTMENTS[d][0]} {ROLES[(j // len(DEPARTMENTS)) % len(ROLES)]}",
               "session_duration": rng.choice(["PT1H", "PT1H", "PT2H", "PT4H"]), "managed_policies": policies}
        if rng.random() < 0.2:
            row["customer_managed_policies"] = [{"name": f"{DEPARTMENTS[d][1]}-Workload-{j + 1}", "path": "/"}]
        if rng.random() < 0.1:
            row["inline_policy"] = {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["ssm:StartSession", "ssm:DescribeSessions"], "Resource": "*"}]}
        ps_by_dept[d].append(len(ps_rows))
        ps_rows.append(row)
        ps_dept.append(d)
    unused_ps = []
    for j in range(n_unused):
        unused_ps.append(len(ps_rows))
        ps_rows.append({"name": f"Legacy-Migration-{j + 1}", "description": "created for a finished migration",
                        "session_duration": "PT1H", "managed_policies": [AWS_POLICY + "AWSSupportAccess"]})
        ps_dept.append(None)
    long_ps = ps_by_dept[0][0] if ps_by_dept[0] else 7
    ps_rows[long_ps]["session_duration"] = "PT12H"

    # ----------------------------------------------------------------------------------------- assignments
    target = assignments if assignments is not None else accounts * 12
    assignment_rows: list[dict] = []
    pairs = 0
    # The platform administrators: AdministratorAccess on every production account (planted, reviewed).
    platform_admins = assigned[0]
    group_rows[platform_admins]["display_name"] = "AWS-Platform-Admins"
    assignment_rows.append({"group": "AWS-Platform-Admins", "permission_set": "AdministratorAccess",
                            "accounts": [account_rows[i]["name"] for i in prod_accounts] or
                                        [account_rows[0]["name"]]})
    pairs += len(assignment_rows[0]["accounts"])
    security_group = assigned[1]
    group_rows[security_group]["display_name"] = "AWS-Security-Audit"
    assignment_rows.append({"group": "AWS-Security-Audit", "permission_set": "SecurityAudit",
                            "accounts": [r["name"] for r in account_rows if r.get("status") != "SUSPENDED"]})
    pairs += len(assignment_rows[1]["accounts"])
    others = assigned[2:]
    holders_groups: set[int] = {platform_admins, security_group}
    cursor = 0
    safe_base = [2, 3]  # ReadOnly, ViewOnly
    while pairs < target and others:
        g = others[cursor % len(others)]
        cursor += 1
        d = group_dept[g]
        home = accounts_by_dept[d] or nonprod_accounts
        roll = rng.random()
        if roll < 0.25:
            ps = rng.choice(safe_base)
            pool = home
        elif roll < 0.32:
            ps = 1  # PowerUser, non-production only
            pool = [i for i in home if i in set(nonprod_accounts)] or nonprod_accounts
        else:
            ps = rng.choice(ps_by_dept[d]) if ps_by_dept[d] else 2
            pool = home
        n = min(len(pool), max(1, int(rng.paretovariate(1.3))))
        chosen = sorted(rng.sample(pool, n))
        assignment_rows.append({"group": group_rows[g]["display_name"], "permission_set": ps_rows[ps]["name"],
                                "accounts": [account_rows[i]["name"] for i in chosen]})
        holders_groups.add(g)
        pairs += n
    # Every permission set but the planted unused ones is assigned somewhere.
    used = {row["permission_set"] for row in assignment_rows}
    for p, row in enumerate(ps_rows):
        if p in unused_ps or row["name"] in used or not others:
            continue
        d = ps_dept[p]
        candidates = [g for g in others if group_dept[g] == d] or others
        g = candidates[p % len(candidates)]
        pool = accounts_by_dept[d] if d is not None and accounts_by_dept[d] else nonprod_accounts
        if row["name"] == "AdministratorAccess":
            continue
        if row["name"] == "PowerUser":
            pool = nonprod_accounts
        assignment_rows.append({"group": group_rows[g]["display_name"], "permission_set": row["name"],
                                "accounts": [account_rows[pool[p % len(pool)]]["name"]]})
        holders_groups.add(g)

    # ----------------------------------------------------------------------------------------- who holds access
    holder_set: set[int] = set()
    for g in holders_groups:
        holder_set.update(group_rows[g].get("_members", []))
    holders = sorted(holder_set)
    rng.shuffle(holders)
    taken: set[int] = set()

    def pick_holders(count: int) -> list[int]:
        out = []
        for i in holders:
            if i not in taken:
                taken.add(i)
                out.append(i)
                if len(out) == count:
                    break
        return out

    faults: list[dict] = []
    app_name = "AWS IAM Identity Center"

    def fault(check: str, subject: str, note: str) -> None:
        faults.append({"check": check, "subject": subject, "note": note})

    direct_app_users: list[str] = []
    extra_users: list[dict] = []

    def new_user(local: str, given: str | None, surname: str | None, display: str, mail: str | None = None,
                 **extra) -> dict:
        upn = f"{local}@{domain}"
        row = {"upn": upn, "display_name": display, "mail": mail or upn, "created": f"now-{rng.randint(5, 300)}d",
               "last_sign_in": f"now-{rng.randint(1, 72)}h"}
        if given:
            row["given_name"] = given
        if surname:
            row["surname"] = surname
        row.update(extra)
        extra_users.append(row)
        return row

    # A: required attributes missing (service accounts assigned directly).
    for j in range(k):
        row = new_user(f"svc-batch-{j + 1:02d}", None, None, f"Batch Service {j + 1}", job_title="Service account")
        direct_app_users.append(row["upn"])
        for check, note in (("scim.missing_required_attribute", "no given name or surname"),
                            ("provisioning.errors", "CreateUser refused: name.givenName missing"),
                            ("reconcile.missing_in_idc", "refused by SCIM")):
            fault(check, "user:" + row["upn"], note)
    # B: forbidden characters in a mapped attribute.
    for j in range(k):
        given, surname = GIVEN[(j * 7) % len(GIVEN)], SURNAMES[(j * 11) % len(SURNAMES)]
        row = new_user(f"ext.{_fold(given)}.{_fold(surname)}.{j + 1}", given, surname, f"{given} {surname}",
                       job_title="Consultant; Identity & Access", company_name="Northbridge Consulting")
        direct_app_users.append(row["upn"])
        for check, note in (("scim.forbidden_characters", "job title holds ';'"),
                            ("provisioning.errors", "CreateUser refused: invalid character in title"),
                            ("reconcile.missing_in_idc", "refused by SCIM")):
            fault(check, "user:" + row["upn"], note)
    # C: duplicate email: an admin account whose mail is its owner's mailbox. The owner is assigned to the app
    # directly as well, ahead of the admin account, so that SCIM meets (and creates) the owner first.
    for i in pick_holders(k):
        owner = user_rows[i]
        direct_app_users.append(owner["upn"])
        row = new_user("adm-" + owner["upn"].split("@")[0], owner["given_name"], owner["surname"],
                       owner["display_name"] + " (Admin)", mail=owner["mail"], job_title="Admin account")
        direct_app_users.append(row["upn"])
        fault("scim.duplicate_value", "user:" + row["upn"], "mail is the owner's mailbox")
        fault("scim.duplicate_value", "user:" + owner["upn"], "mail also set on the admin account")
        fault("provisioning.errors", "user:" + row["upn"], "CreateUser refused: duplicate email")
        fault("reconcile.missing_in_idc", "user:" + row["upn"], "refused by SCIM")
    # D: users reaching the app only through a group nested in an assigned group.
    for j in range(k):
        host = others[j % len(others)] if others else platform_admins
        name = f"Contractors - Wave {j + 1}"
        members = []
        for m in range(2):
            given, surname = GIVEN[(j * 5 + m * 3 + 1) % len(GIVEN)], SURNAMES[(j * 13 + m + 2) % len(SURNAMES)]
            row = new_user(f"c.{_fold(given)}.{_fold(surname)}.{j + 1}{m + 1}", given, surname, f"{given} {surname}",
                           company_name="Tailwind Staffing", job_title="Contractor")
            members.append(row["upn"])
            fault("scim.nested_group_only", "user:" + row["upn"],
                  f"only in {name}, nested in {group_rows[host]['display_name']}")
        group_rows.append({"display_name": name, "members": members, "created": "now-60d"})
        group_rows[host].setdefault("member_groups", []).append(name)
    # E: disabled in Entra, still enabled in Identity Center, holding access.
    for i in pick_holders(k):
        user_rows[i].update(account_enabled=False, idc={"active": True})
        fault("reconcile.disabled_still_enabled", "user:" + user_rows[i]["upn"], "disabled, active in Identity Center")
        fault("access.disabled_user_access", "user:" + user_rows[i]["upn"], "disabled, still holds access")
    # F: attribute drift; G: user name case.
    for i in pick_holders(k):
        user_rows[i]["idc"] = {"display_name": user_rows[i]["display_name"] + " (old)"}
        fault("reconcile.attribute_mismatch", "user:" + user_rows[i]["upn"], "display name differs in Identity Center")
    for i in pick_holders(k):
        upn = user_rows[i]["upn"]
        user_rows[i]["idc"] = {"user_name": upn[0].upper() + upn[1:]}
        fault("reconcile.username_case", "user:" + upn, "Identity Center user name differs in case only")
    # H: direct user assignments (ReadOnly on a non-production account).
    for i in pick_holders(k):
        assignment_rows.append({"user": user_rows[i]["upn"], "permission_set": "ReadOnly",
                                "accounts": [account_rows[nonprod_accounts[i % len(nonprod_accounts)]]["name"]]})
        fault("access.direct_user_assignment", "user:" + user_rows[i]["upn"], "ReadOnly assigned to the user")
    # I: guests with access.
    guest_group = group_rows[security_group]  # SecurityAudit on every account
    guest_rows = []
    for j in range(k):
        given, surname = GIVEN[(j * 3 + 5) % len(GIVEN)], SURNAMES[(j * 17 + 5) % len(SURNAMES)]
        local = f"{_fold(given)}.{_fold(surname)}"
        local = f"{local}{j + 1}"
        row = {"upn": f"{local}_partner.example#EXT#@{default_domain}", "display_name": f"{given} {surname} (Partner)",
               "given_name": given, "surname": surname, "mail": f"{local}@partner.example", "user_type": "Guest",
               "created": "now-90d", "last_sign_in": f"now-{rng.randint(1, 72)}h"}
        extra_users.append(row)
        guest_rows.append(row)
        guest_group["members"].append(row["upn"])
        fault("access.guest_access", "user:" + row["upn"], f"guest in {guest_group['display_name']}")
    # J: stale; K: no MFA.
    stale = pick_holders(k)
    for i in stale:
        user_rows[i].update(last_sign_in="now-200d", last_non_interactive_sign_in="now-199d")
        fault("access.stale_user", "user:" + user_rows[i]["upn"], "no sign-in for 200 days")
    for i in pick_holders(k):
        user_rows[i].update(mfa_registered=False, mfa_methods=[])
        fault("access.no_mfa", "user:" + user_rows[i]["upn"], "holds access, no MFA method registered")
    # L-P: permission sets, hand-made principals.
    for p in unused_ps:
        fault("access.unused_permission_set", "permission_set:" + ps_rows[p]["name"], "assigned nowhere")
    fault("access.long_session", "permission_set:" + ps_rows[long_ps]["name"], "session duration PT12H")
    fault("access.privileged_permission_set", "permission_set:AdministratorAccess", "AdministratorAccess policy")
    fault("access.privileged_prod_access", "group:AWS-Platform-Admins", "AdministratorAccess on production accounts")
    drift_ps = next(row for row in assignment_rows if row["permission_set"] not in ("AdministratorAccess",
                                                                                    "SecurityAudit"))
    ps_index = next(p for p, row in enumerate(ps_rows) if row["name"] == drift_ps["permission_set"])
    ps_rows[ps_index]["not_reprovisioned_in"] = [drift_ps["accounts"][0]]
    fault("aws.permission_set_not_reprovisioned", "permission_set:" + drift_ps["permission_set"],
          f"changed, not re-provisioned to {drift_ps['accounts'][0]}")
    idc_users = []
    for j in range(k):
        user_name = f"legacy.admin{j + 1}@{domain}"
        idc_users.append({"user_name": user_name, "display_name": f"Legacy Admin {j + 1}", "given_name": "Legacy",
                          "family_name": f"Admin{j + 1}"})
        fault("reconcile.created_by_hand", "user:" + user_name, "created in Identity Center by hand")
        fault("reconcile.extra_in_idc", "user:" + user_name, "not in Entra")
    fault("reconcile.created_by_hand", "group:Legacy-Admins", "created in Identity Center by hand")
    fault("reconcile.extra_in_idc", "group:Legacy-Admins", "not in Entra")

    # ----------------------------------------------------------------------------------------- sign-ins
    sample_size = sign_ins if sign_ins is not None else max(1000, users // 10)
    stale_set = set(stale)
    disabled = {i for i in taken if user_rows[i].get("account_enabled") is False}
    sample = [i for i in holders if i not in stale_set and i not in disabled][:sample_size]
    entra_sign_ins: list[dict] = []
    aws_sign_ins: list[dict] = []
    for n, i in enumerate(sample):
        row = user_rows[i]
        minutes = rng.randint(30, 29 * 1440)
        ip = f"203.0.113.{n % 200 + 20}"
        entra_sign_ins.append({"user": row["upn"], "at": f"now-{minutes}m", "ip": ip})
        aws_name = row.get("idc", {}).get("user_name", row["upn"])
        aws_sign_ins.append({"user": aws_name, "at": f"now-{minutes - 0.1:.1f}m", "ip": ip})
        if "last_sign_in" in row and int(row["last_sign_in"][4:-1]) * 60 > minutes:
            row["last_sign_in"] = f"now-{minutes}m"
    for row in guest_rows:
        minutes = rng.randint(60, 5 * 1440)
        entra_sign_ins.append({"user": row["upn"], "at": f"now-{minutes}m", "ip": "198.51.100.30"})
        aws_sign_ins.append({"user": row["upn"], "at": f"now-{minutes - 0.1:.1f}m", "ip": "198.51.100.30"})
        row["last_sign_in"] = f"now-{minutes}m"

    for row in group_rows:
        row.pop("_members", None)
    assigned_names = [group_rows[g]["display_name"] for g in assigned]
    doc = {
        "scenario": f"{company} (generated)",
        "description": (f"Generated by idbridge.sandbox.generate: {users} users, {groups} groups, {accounts} "
                        f"accounts, {permission_sets} permission sets, seed {seed}."),
        "tenant": {"id": tenant_id, "display_name": company, "default_domain": default_domain, "domains": [domain],
                   "licence": "P2"},
        "entra": {
            "users": user_rows + extra_users,
            "groups": group_rows,
            "aws_app": {
                "display_name": app_name, "app_id": app_id,
                "signing_certificates": [{"start": "now-400d", "end": "now+695d", "active": True,
                                          "uploaded_to_aws": "now-399d"}],
                "assignments": {"groups": assigned_names, "users": direct_app_users},
                "provisioning": {"status": "Active", "token_created": "now-100d", "last_cycle": "now-20m",
                                 "notification_email": f"cloud-team@{domain}"},
            },
            "conditional_access": [{"display_name": "Require MFA for AWS", "include_applications": ["aws"],
                                    "include_users": ["All"], "grant_controls": ["mfa"]}],
            "sign_ins": entra_sign_ins,
        },
        "aws": {
            "management_account": management,
            "identity_center": {"region": "us-east-1", "instance_name": tenant_label,
                                "users": idc_users,
                                "groups": [{"display_name": "Legacy-Admins",
                                            "members": [u["user_name"] for u in idc_users]}]},
            "accounts": account_rows,
            "permission_sets": ps_rows,
            "account_assignments": assignment_rows,
            "sign_ins": aws_sign_ins,
        },
        "faults": faults,
    }
    return doc


def _emit(out: list[str], key: str, value, indent: int) -> None:
    import json

    pad = " " * indent
    if isinstance(value, dict) and any(isinstance(v, (dict, list)) and v and
                                       (isinstance(v, dict) or isinstance(v[0], dict)) for v in value.values()):
        out.append(f"{pad}{key}:")
        for sub_key, sub_value in value.items():
            _emit(out, sub_key, sub_value, indent + 2)
    elif isinstance(value, list) and value and isinstance(value[0], dict):
        out.append(f"{pad}{key}:")
        dumps = json.JSONEncoder(ensure_ascii=False).encode
        out.extend(f"{pad}  - {dumps(item)}" for item in value)
    else:
        out.append(f"{pad}{key}: {json.dumps(value, ensure_ascii=False)}")


def write_flow_yaml(doc: dict, path: Path) -> None:
    """Block structure at the top, one JSON-style flow mapping per list item (users, groups, sign-ins...).

    JSON scalars and flow collections are valid YAML, so the file stays a scenario any YAML reader takes; the
    encoder is C code, about 15x faster than building PyYAML's node tree (see `dump_yaml`)."""
    out = [f"# {doc['description']}", "# Format: docs/scenarios.md"]
    for key, value in doc.items():
        _emit(out, key, value, 0)
    with path.open("w", encoding="utf-8") as handle:
        handle.write("\n".join(out))
        handle.write("\n")


def dump_yaml(doc: dict, path: Path) -> None:
    """PyYAML's own emitter, libyaml's C implementation when PyYAML has it (the representer stays Python)."""
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    with path.open("w", encoding="utf-8") as handle:
        handle.write(f"# {doc['description']}\n# Format: docs/scenarios.md\n")
        yaml.dump(doc, handle, Dumper=dumper, default_flow_style=None, allow_unicode=True, sort_keys=False,
                  width=160)


def write_scenario(out: Path | str, *, users: int, groups: int, accounts: int, permission_sets: int, seed: int = 1,
                   assignments: int | None = None, sign_ins: int | None = None, faults_per_kind: int = 3,
                   writer: str = "flow") -> Path:
    """Generate and write a scenario file (what `idbridge sandbox generate` does); returns the path.
    Raises ValueError for sizes below the minimum (50 users, 20 groups, 4 accounts, 12 permission sets)."""
    path = Path(out)
    doc = generate_scenario(users, groups, accounts, permission_sets, seed=seed, assignments=assignments,
                            sign_ins=sign_ins, faults_per_kind=faults_per_kind)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".json":  # JSON is YAML too, and loads ~50x faster than YAML for 100k users
        path.write_text(json.dumps(doc, ensure_ascii=False, indent=0), encoding="utf-8")
    else:
        (dump_yaml if writer == "pyyaml" else write_flow_yaml)(doc, path)
    return path
