"""The generator of scenarios/demo.yaml: Northwind Analytics, the sandbox's demo organisation, with its planted faults.

    idbridge dev make-demo              # rewrites scenarios/demo.yaml
    idbridge dev make-demo --check      # exit 1 if demo.yaml differs from what this writes

The committed artifact is demo.yaml; this module only produces its bulk (about 300 staff, their groups and a month
of sign-ins) so that it stays consistent. The regular staff are drawn from fixed name pools with a seeded random
generator. Every planted fault is written out by hand: the people in `planted_people()`, the groups in
`build_groups()`, the app in `build()`, the AWS side in `permission_sets()` / `account_assignments()`, the log
stories at the end of `sign_ins()`, and the list in `faults()`. `tests/sandbox/test_scenarios.py` checks that
demo.yaml equals this generator's output, and that the `faults:` list is exactly what the scenario implies.

The rules the bulk follows so that it plants nothing by accident:
- everyone who reaches the AWS app has given name, surname, display name, a unique mail, no character Identity
  Center refuses, at most one phone (the app maps `mobile` as a second phone), MFA registered;
- everyone who holds AWS access signed in to Entra in the last days and to the AWS access portal in the last
  30 days (an Entra sign-in to the app followed a few seconds later by a UserAuthentication from the same IP);
- privileged permission sets reach production accounts only through AWS-Prod-Admins.
"""

from __future__ import annotations

import json
import random
import re
import unicodedata

import yaml

from idbridge.core.paths import SCENARIOS_DIR

OUT = SCENARIOS_DIR / "demo.yaml"

TENANT_ID = "3c8e5b1a-7d2f-4e96-a0b4-5f19c27d8e63"
APP_ID = "b2f6d9e4-1c3a-4b7e-9f58-6a0d2e4c7b19"
DEFAULT_DOMAIN = "northwindanalytics.onmicrosoft.com"
DOMAIN = "northwind-analytics.com"
APP_NAME = "AWS IAM Identity Center"
MANAGEMENT_ACCOUNT = "402918375561"
REGION = "eu-west-1"
EXTRA_REGION = "eu-central-1"
SEED = 20260526

# ----------------------------------------------------------------------------------------------- offices

OFFICES = {
    "lon": {"company_name": "Northwind Analytics Ltd", "office_location": "London HQ",
            "street_address": "14 Rivergate Yard", "city": "London", "country": "United Kingdom",
            "usage_location": "GB", "preferred_language": "en-GB"},
    "ber": {"company_name": "Northwind Analytics GmbH", "office_location": "Berlin",
            "street_address": "Spreeufer 21", "city": "Berlin", "country": "Germany",
            "usage_location": "DE", "preferred_language": "de-DE"},
    "lis": {"company_name": "Northwind Analytics Unipessoal Lda", "office_location": "Lisboa",
            "street_address": "Rua das Janelas Verdes 47", "city": "Lisboa", "country": "Portugal",
            "usage_location": "PT", "preferred_language": "pt-PT"},
}

# ----------------------------------------------------------------------------------------------- names

POOLS = {
    "english": (
        "Oliver George Harry Jack Charlie Thomas James William Daniel Samuel Amelia Olivia Isla Emily Sophie Grace "
        "Lucy Chloe Charlotte Hannah Ellie Jessica Matthew Rebecca Laura Joseph Benjamin Rachel Katherine Alice "
        "Eleanor Freya Megan Ruth Edward Henry",
        "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans Walker White Roberts "
        "Green Hall Wood Jackson Clarke Hughes Edwards Turner Cooper Hill Ward Morris Moore Harrison Fletcher "
        "Whitaker Holloway Ashworth Pemberton Barker Lawson"),
    "irish": ("Siobhán Aoife Niamh Seán Ciarán Róisín Eoin Pádraig Orla Cathal",
              "O'Brien Murphy Kelly Byrne Ryan O'Connor Walsh McCarthy Doyle Gallagher"),
    "indian": ("Priya Arjun Ananya Rohan Aditi Vikram Kavya Rahul Sneha Aarav Nikhil Divya Sanjay Meera Harpreet "
               "Ishaan",
               "Sharma Patel Iyer Gupta Nair Reddy Mehta Kapoor Singh Krishnan Desai Chopra Banerjee Pillai"),
    "westafrican": ("Chinedu Adaeze Oluwaseun Ngozi Tunde Folake Emeka Ama Kofi Abena Yaw Efua",
                    "Okafor Adeyemi Obi Nwosu Balogun Asante Boateng Owusu Adebayo Eze Ansah"),
    "polish": ("Łukasz Agnieszka Paweł Małgorzata Krzysztof Katarzyna Tomasz Zofia Michał Joanna",
               "Nowak Wójcik Mazur Krawczyk Zając Król Wróbel Dudek Pawlak Sikora"),
    "chinese": ("Wei Jing Hao Mei Xin Yu Jun Lan", "Chen Wang Zhang Liu Huang Zhou Wu Lin"),
    "german": (
        "Lukas Leon Jonas Felix Maximilian Paul Niklas Tobias Anna Lena Lea Sophie Marie Katharina Julia Jürgen "
        "Jörg Sören Uwe Anja Sabine Annika Mareike Moritz Henrik",
        "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch Bauer Richter Wolf "
        "Schröder Neumann Schwarz Zimmermann Braun Krüger Hartmann Lange Weiß Böhm Groß Vogel Franke"),
    "turkish": ("Mehmet Ayşe Emre Zeynep Can Elif Çağla Burak Gökhan Şeyma",
                "Yılmaz Kaya Demir Şahin Çelik Yıldız Öztürk Aydın Arslan Doğan"),
    "czech": ("Tomáš Jana Petra Jiří Lucie Ondřej", "Novák Svoboda Černý Procházka Kučera Veselý"),
    "nordic": ("Søren Astrid Mikkel Ingrid Lars Sigrid Björn Åsa",
               "Østergaard Andersen Johansson Nyström Ekström Sørensen Halvorsen Lindgren"),
    "portuguese": (
        "João Inês Tiago Beatriz Rui Mariana Gonçalo Catarina Afonso Leonor Duarte Sofia Diogo Matilde Francisco "
        "Ana Miguel Joana Pedro Rita",
        "Silva Santos Ferreira Pereira Oliveira Costa Rodrigues Martins Sousa Fernandes Gonçalves Gomes Lopes "
        "Marques Alves Ribeiro Carvalho Simões Conceição Magalhães"),
    "brazilian": ("Luíza Thiago Camila Gabriel Larissa Rafael", "Almeida Barbosa Cardoso Nascimento Araújo Moreira"),
    "spanish": ("Alejandro Sofía Javier Carmen Pablo Irene Álvaro Nuria Andrés Elena",
                "García López Martínez Sánchez Pérez Gómez Jiménez Ruiz Navarro Muñoz"),
    "french": ("Amélie Hélène Théo Chloé Julien Élodie Mathieu Camille",
               "Dubois Moreau Laurent Girard Rousseau Fontaine Mercier Lemaire"),
    "dutch": ("Daan Femke Bram Lieke Joost Maartje",
              "de Vries|Jansen|van Dijk|Bakker|Visser|Smit|de Boer|van den Berg"),
    "vietnamese": ("Linh Minh Huong Thao", "Nguyễn Trần Lê Phạm"),
    "eastasian": ("Yuki Haruto Sakura Kenji Ji-woo Min-jun Seo-yeon", "Tanaka Suzuki Sato Watanabe Kim Park"),
}
CULTURE_WEIGHTS = {
    "lon": {"english": 40, "irish": 6, "indian": 14, "westafrican": 10, "polish": 6, "chinese": 6, "spanish": 4,
            "french": 4, "eastasian": 4, "vietnamese": 2, "nordic": 2, "dutch": 2},
    "ber": {"german": 50, "turkish": 12, "polish": 8, "czech": 6, "nordic": 6, "dutch": 6, "french": 4,
            "spanish": 4, "indian": 4},
    "lis": {"portuguese": 55, "brazilian": 15, "spanish": 10, "french": 5, "english": 5, "indian": 5,
            "westafrican": 5},
}

# (department, team, head count, [(title, weight)], office weights lon/ber/lis)
STAFF = [
    ("Engineering", "Platform", 19, [("Platform Engineer", 6), ("Senior Platform Engineer", 5),
                                     ("Site Reliability Engineer", 4), ("Staff Engineer", 1)], (6, 3, 1)),
    ("Engineering", "Product", 44, [("Software Engineer", 14), ("Senior Software Engineer", 12),
                                    ("Frontend Engineer", 6), ("Backend Engineer", 6), ("QA Engineer", 4),
                                    ("Principal Engineer", 1), ("Engineering Manager", 3)], (4, 3, 3)),
    ("Engineering", "Data Platform", 18, [("Data Engineer", 8), ("Senior Data Engineer", 5), ("ML Engineer", 3),
                                          ("Engineering Manager, Data", 1)], (5, 3, 2)),
    ("Data & Analytics", "Analytics", 36, [("Data Analyst", 10), ("Senior Data Analyst", 7), ("Data Scientist", 8),
                                           ("Analytics Engineer", 6), ("BI Developer", 4)], (5, 2, 3)),
    ("Security", "Security", 6, [("Security Engineer", 3), ("Senior Security Engineer", 1), ("Security Analyst", 1),
                                 ("GRC Manager", 1)], (8, 2, 0)),
    ("IT", "IT", 9, [("IT Support Specialist", 4), ("Systems Administrator", 2), ("Identity Engineer", 2),
                     ("IT Manager", 1)], (6, 2, 2)),
    ("Finance", "Finance", 12, [("Accountant", 4), ("Financial Analyst", 3), ("FinOps Analyst", 2),
                                ("Payroll Specialist", 2), ("Financial Controller", 1)], (8, 1, 1)),
    ("Sales", "Sales", 46, [("Account Executive", 16), ("Sales Development Representative", 12),
                            ("Sales Engineer", 8), ("Sales Manager", 4), ("Partner Manager", 3)], (5, 3, 2)),
    ("Marketing", "Marketing", 21, [("Marketing Manager", 4), ("Content Strategist", 4), ("Designer", 4),
                                    ("Product Marketing Manager", 4), ("Events Coordinator", 3)], (7, 1, 2)),
    ("Customer Success", "Customer Success", 31, [("Customer Success Manager", 12), ("Support Engineer", 12),
                                                  ("Support Team Lead", 3), ("Onboarding Specialist", 2)], (3, 2, 5)),
    ("HR", "People", 9, [("HR Business Partner", 3), ("Recruiter", 4), ("People Operations Specialist", 2)],
     (6, 2, 2)),
    ("Legal", "Legal", 4, [("Legal Counsel", 2), ("Paralegal", 1), ("Data Protection Officer", 1)], (8, 2, 0)),
    ("Operations", "Operations", 11, [("Office Manager", 3), ("Operations Analyst", 4),
                                      ("Facilities Coordinator", 2), ("Procurement Specialist", 2)], (5, 3, 2)),
]

# Named people who hold a role or a planted fault. (key, given, surname, department, team, title, office)
NAMED = [
    ("ceo", "Margaret", "Ashdown", "Executive", "Executive", "Chief Executive Officer", "lon"),
    ("cto", "Rafael", "Quintanilha", "Executive", "Executive", "Chief Technology Officer", "lis"),
    ("cfo", "Helen", "Marsh", "Executive", "Executive", "Chief Financial Officer", "lon"),
    ("coo", "Dieter", "Falkenberg", "Executive", "Executive", "Chief Operating Officer", "ber"),
    ("cro", "Nnamdi", "Okonkwo", "Executive", "Executive", "Chief Revenue Officer", "lon"),
    ("cpo", "Isabel", "Carrington", "Executive", "Executive", "Chief People Officer", "lon"),
    ("head_platform", "Gareth", "Lloyd", "Engineering", "Platform", "Head of Platform", "lon"),
    ("em_platform", "Annelie", "Strand", "Engineering", "Platform", "Engineering Manager, Platform", "ber"),
    ("head_analytics", "Hannah", "Whitfield", "Data & Analytics", "Analytics", "Head of Analytics", "lon"),
    ("ciso", "Dominic", "Achterberg", "Security", "Security", "Chief Information Security Officer", "lon"),
    ("sec_lead", "Ifeoma", "Chukwu", "Security", "Security", "Security Operations Lead", "lon"),
    ("controller", "Beatriz", "Salgueiro", "Finance", "Finance", "Financial Controller", "lis"),
]

# ----------------------------------------------------------------------------------------------- helpers

_FOLD = str.maketrans({"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "ß": "ss", "æ": "ae", "ı": "i", "đ": "d",
                       "'": "", " ": ""})


def ascii_fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def upn_of(given: str, surname: str, domain: str = DOMAIN) -> str:
    return f"{ascii_fold(given)}.{ascii_fold(surname)}@{domain}"


class People:
    """The staff list, in the order written to the file, with lookups by key and UPN."""

    def __init__(self) -> None:
        self.rows: list[dict] = []
        self.by_key: dict[str, dict] = {}
        self.names: set[str] = set()

    def add(self, person: dict, key: str | None = None) -> dict:
        self.rows.append(person)
        self.names.add(person["upn"].split("@")[0])
        if key:
            self.by_key[key] = person
        return person

    def __getitem__(self, key: str) -> dict:
        return self.by_key[key]

    def upn(self, key: str) -> str:
        return self.by_key[key]["upn"]


def pick_weighted(rng: random.Random, weights: dict[str, int] | list[tuple[str, int]]):
    items = list(weights.items()) if isinstance(weights, dict) else list(weights)
    return rng.choices([k for k, _ in items], [w for _, w in items])[0]


def split_pool(text: str) -> list[str]:
    return text.split("|") if "|" in text else text.split()


# ----------------------------------------------------------------------------------------------- people


def regular_person(rng: random.Random, people: People, dept: str, team: str, title: str, office: str,
                   phone_counter: dict) -> dict:
    while True:
        culture = pick_weighted(rng, CULTURE_WEIGHTS[office])
        given_pool, surname_pool = POOLS[culture]
        given = rng.choice(split_pool(given_pool))
        surname = rng.choice(split_pool(surname_pool))
        local = upn_of(given, surname).split("@")[0]
        if local not in people.names:
            break
    return base_person(rng, given, surname, dept, team, title, office, phone_counter)


def base_person(rng: random.Random, given: str, surname: str, dept: str, team: str, title: str, office: str,
                phone_counter: dict, *, mobile_only: bool | None = None) -> dict:
    upn = upn_of(given, surname)
    person = {"upn": upn, "display_name": f"{given} {surname}", "given_name": given, "surname": surname,
              "mail": upn, "job_title": title, "department": dept, "employee_id": None, "_office": office,
              "_team": team}
    if mobile_only is None:
        mobile_only = rng.random() < 0.15
    phone_counter[office] = phone_counter.get(office, 0) + 1
    n = phone_counter[office]
    if mobile_only:
        person["mobile_phone"] = {"lon": f"+44 7700 900{n:03d}", "ber": f"+49 1522 3{n:06d}",
                                  "lis": f"+351 912 {n:03d} 4{n % 100:02d}"}[office]
    else:
        person["business_phones"] = [{"lon": f"+44 20 7946 0{n:03d}", "ber": f"+49 30 23125 {n:03d}",
                                      "lis": f"+351 213 {n:03d} 0{n % 100:02d}"}[office]]
    person["created"] = f"now-{int(rng.triangular(45, 2900, 500))}d"
    hours = rng.choice([rng.randint(1, 30), rng.randint(1, 30), rng.randint(1, 72), rng.randint(72, 500)])
    person["last_sign_in"] = f"now-{hours}h"
    person["last_non_interactive_sign_in"] = f"now-{rng.randint(0, min(hours, 20))}h"
    roll = rng.random()
    if roll < 0.2:
        person["mfa_methods"] = ["microsoftAuthenticatorPush", "fido2SecurityKey"]
    elif roll < 0.3:
        person["mfa_methods"] = ["softwareOneTimePasscode"]
    elif roll < 0.36:
        person["mfa_methods"] = ["windowsHelloForBusiness", "microsoftAuthenticatorPush"]
    return person


# Planted people's names, kept out of the pools' draws so that no regular colleague shares their UPN.
RESERVED = ["Sanne de Vries", "Kwame Mensah", "Lucía Fernández", "Charlotte Pemberton-Hale", "Marek Dvořák",
            "Olivia Grant", "Tiago Mendonça", "Emily Carter-Nwosu", "Emily Carter", "Mateus Ferreira", "Tomáš Horák",
            "Yuki Tanaka", "Adaeze Okafor", "Priya Raman", "Jarosław Kubiak", "Amara Diallo", "Robert Lindqvist",
            "Jonas Eriksen", "Chiara Benedetti"]


def build_people(rng: random.Random) -> People:
    people = People()
    for name in RESERVED:
        given, surname = name.split(" ", 1)
        people.names.add(upn_of(given, surname).split("@")[0])
    phones: dict[str, int] = {}
    for key, given, surname, dept, team, title, office in NAMED:
        person = base_person(rng, given, surname, dept, team, title, office, phones, mobile_only=False)
        person["created"] = f"now-{rng.randint(1400, 2900)}d"
        people.add(person, key)
    for dept, team, count, titles, office_weights in STAFF:
        for _ in range(count):
            office = pick_weighted(rng, dict(zip(("lon", "ber", "lis"), office_weights)))
            title = pick_weighted(rng, titles)
            people.add(regular_person(rng, people, dept, team, title, office, phones))
    # A handful of people who left, disabled but not yet deleted; none of them ever had AWS access.
    for person in rng.sample([p for p in people.rows if p["department"] in ("Sales", "Marketing")], 3):
        person["account_enabled"] = False
        person["last_sign_in"] = f"now-{rng.randint(25, 60)}d"
        person["last_non_interactive_sign_in"] = person["last_sign_in"]
        person["_leaver"] = True
    # Some people outside engineering never registered MFA (no AWS access, so no finding).
    for person in rng.sample([p for p in people.rows if p["department"] in ("Sales", "Customer Success",
                                                                            "Operations") and
                              not p.get("_leaver")], 9):
        person["mfa_registered"] = False
        person["mfa_methods"] = []
    return people


def planted_people(rng: random.Random, people: People) -> None:
    """People who carry a planted fault (see FAULTS), written in block style with a comment in the file."""
    phones: dict[str, int] = {"lon": 600, "ber": 600, "lis": 600}

    def named(key, given, surname, dept, team, title, office, comment, **extra):
        person = base_person(rng, given, surname, dept, team, title, office, phones, mobile_only=False)
        person.update(extra)
        person["_comment"] = comment
        return people.add(person, key)

    named("breakfix", "Sanne", "de Vries", "Engineering", "Platform", "Senior Platform Engineer", "lon",
          "holds AdministratorAccess on insights-prod directly (incident INC-2291, never removed)")
    named("sod", "Kwame", "Mensah", "Engineering", "Platform", "Staff Site Reliability Engineer", "lon",
          "moved from Security to Platform: still in AWS-Security-Audit and now in AWS-Prod-Admins")
    named("no_mfa", "Lucía", "Fernández", "Engineering", "Product", "Senior Software Engineer", "lis",
          "never registered MFA; excluded from the AWS MFA policy through CA-Exclusions since a trip",
          mfa_registered=False, mfa_methods=[])
    named("stale", "Charlotte", "Pemberton-Hale", "Data & Analytics", "Analytics", "Analytics Manager", "lon",
          "on parental leave: no sign-in on either side for 130 days, still in AWS-ReadOnly-All",
          last_sign_in="now-130d", last_non_interactive_sign_in="now-128d")
    named("disabled", "Marek", "Dvořák", "Data & Analytics", "Analytics", "Senior Data Analyst", "ber",
          "left two days ago: disabled in Entra, the next cycle has not run, still enabled in Identity Center",
          account_enabled=False, last_sign_in="now-3d", last_non_interactive_sign_in="now-2d",
          idc={"active": True})
    named("deleted", "Olivia", "Grant", "Data & Analytics", "Analytics", "Analytics Engineer", "lon",
          "contract ended: deleted in Entra after the last cycle, Identity Center still has her, enabled",
          deleted=True, last_sign_in="now-1d", last_non_interactive_sign_in="now-1d", idc={"active": True})
    named("new_joiner", "Tiago", "Mendonça", "Data & Analytics", "Analytics", "Data Analyst", "lis",
          "joined today, added to AWS-Data-ReadOnly after the last (overdue) cycle: not in Identity Center yet",
          created="now-70m", last_sign_in="now-20m", last_non_interactive_sign_in="now-15m", idc={"present": False})
    named("renamed", "Emily", "Carter-Nwosu", "Engineering", "Product", "Software Engineer", "lon",
          "surname changed in Entra after the last cycle: Identity Center keeps the old names",
          idc={"display_name": "Emily Carter", "family_name": "Carter"})
    named("upn_changed", "Mateus", "Ferreira", "Engineering", "Product", "Backend Engineer", "lis",
          "contractor turned employee: UPN moved from the onmicrosoft domain an hour ago; Identity Center still "
          "has the old user name, so his AWS sign-ins fail since",
          created="now-300d", idc={"user_name": f"mateus.ferreira@{DEFAULT_DOMAIN}"})
    named("case", "Tomáš", "Horák", "Engineering", "Product", "Senior Software Engineer", "ber",
          "UPN was created as Tomas.Horak@ and later lowercased; SCIM saw no change, Identity Center kept the case",
          idc={"user_name": f"Tomas.Horak@{DOMAIN}"})
    named("no_external_id", "Yuki", "Tanaka", "Engineering", "Data Platform", "Senior Data Engineer", "lon",
          "provisioned during the pilot, whose mapping had no externalId: matched on userName, no externalId",
          idc={"external_id": ""})
    named("multi_phone", "Adaeze", "Okafor", "Data & Analytics", "Analytics", "Data Scientist", "lon",
          "office and mobile phone both set; the app maps mobile as a second phoneNumbers value: SCIM 400",
          mobile_phone="+44 7700 900777")
    named("priya", "Priya", "Raman", "Engineering", "Data Platform", "Senior Data Engineer", "lon",
          "shares her mail with her admin account adm-priya.raman; assigned to the app directly since the pilot, "
          "she was provisioned first and is in Identity Center")

    contractors = [
        ("contractor1", "Jarosław", "Kubiak", "lon"), ("contractor2", "Amara", "Diallo", "lis")]
    for key, given, surname, office in contractors:
        person = base_person(rng, given, surname, "Data & Analytics", "Contractors", "Contract Data Analyst",
                             office, phones, mobile_only=True)
        person["company_name"] = "Tailspin Data Services"
        person["created"] = f"now-{rng.randint(40, 90)}d"
        person["_contractor"] = True
        person["_comment"] = ("member of Data-Contractors only, which is nested in AWS-Data-ReadOnly: never "
                              "provisioned (AADSTS50105 at sign-in)")
        people.add(person, key)

    # Directly assigned to the app; each fails SCIM for a different reason.
    svc = {"upn": f"svc-reporting@{DOMAIN}", "display_name": "Reporting Service", "mail": f"svc-reporting@{DOMAIN}",
           "job_title": "Service account", "created": "now-220d", "last_non_interactive_sign_in": "now-3h",
           "mfa_methods": ["softwareOneTimePasscode"],
           "_comment": "service account assigned to the app directly: no given name or surname, SCIM refuses it"}
    people.add(svc, "svc")
    consultant = base_person(rng, "Robert", "Lindqvist", "IT", "IT", "Identity Consultant", "ber", phones,
                             mobile_only=True)
    consultant.update(display_name='Robert "Bob" Lindqvist', company_name="Contoso Consulting",
                      created="now-12d",
                      _comment='display name holds double quotes, which Identity Center refuses')
    consultant.pop("employee_id", None)
    people.add(consultant, "consultant")
    adm = {"upn": f"adm-priya.raman@{DOMAIN}", "display_name": "Priya Raman (Admin)", "given_name": "Priya",
           "surname": "Raman", "mail": people.upn("priya"), "job_title": "Privileged admin account",
           "created": "now-95d", "last_sign_in": "now-6d", "last_non_interactive_sign_in": "now-6d",
           "mfa_methods": ["fido2SecurityKey"],
           "_comment": "admin account whose mail is Priya's mailbox: SCIM refuses a duplicate email"}
    people.add(adm, "adm_priya")

    # External auditors (B2B guests), reach prod through AWS-External-Auditors.
    for key, given, surname in (("guest1", "Jonas", "Eriksen"), ("guest2", "Chiara", "Benedetti")):
        local = f"{ascii_fold(given)}.{ascii_fold(surname)}"
        guest = {"upn": f"{local}_fabrikam.com#EXT#@{DEFAULT_DOMAIN}", "display_name": f"{given} {surname} (Fabrikam)",
                 "given_name": given, "surname": surname, "mail": f"{local}@fabrikam.com", "user_type": "Guest",
                 "company_name": "Fabrikam Audit LLP", "job_title": "IT Auditor", "created": "now-75d",
                 "last_sign_in": f"now-{rng.randint(2, 9)}d", "mfa_methods": ["microsoftAuthenticatorPush"],
                 "_comment": "external auditor (guest) with AWS access; the app has no guest NameID rule"}
        guest["last_non_interactive_sign_in"] = guest["last_sign_in"]
        people.add(guest, key)

    # Cloud-only break-glass account: excluded from Conditional Access, no AWS access.
    people.add({"upn": f"bg-admin01@{DEFAULT_DOMAIN}", "display_name": "Break Glass 01", "given_name": "Break",
                "surname": "Glass", "mail": f"bg-admin01@{DEFAULT_DOMAIN}", "created": "now-1500d",
                "last_sign_in": "now-41d", "last_non_interactive_sign_in": "now-41d",
                "mfa_methods": ["fido2SecurityKey"]}, "breakglass")


def assign_employee_ids(people: People) -> None:
    staff = [p for p in people.rows if "_team" in p and not p.get("_contractor") and p.get("company_name") is None]
    staff.sort(key=lambda p: -int(p["created"][4:-1]) if p["created"].endswith("d") else 0)
    for rank, person in enumerate(staff):
        person["employee_id"] = f"NW{10040 + rank * 3}"
    for person in people.rows:
        if person.get("employee_id") is None:
            person.pop("employee_id", None)


# ----------------------------------------------------------------------------------------------- groups

def build_groups(rng: random.Random, people: People) -> tuple[list[dict], dict]:
    """Returns the groups (in file order) and the membership of the AWS groups, by key, for later use."""
    rows = people.rows
    everyone = [p for p in rows if p.get("user_type") != "Guest" and "_team" in p]
    staff = [p for p in everyone if not p.get("_contractor") and "employee_id" in p]
    by_team = lambda team: [p for p in staff if p["_team"] == team]  # noqa: E731
    by_dept = lambda dept: [p for p in staff if p["department"] == dept]  # noqa: E731
    enabled = lambda ps: [p for p in ps if p.get("account_enabled", True)]  # noqa: E731
    special = {k for k in ("breakfix", "sod", "no_mfa", "stale", "disabled", "deleted", "new_joiner", "renamed",
                           "upn_changed", "case", "no_external_id", "multi_phone", "priya")}
    special_upns = {people.upn(k) for k in special}
    plain = lambda ps: [p for p in ps if p["upn"] not in special_upns]  # noqa: E731

    platform = plain(by_team("Platform"))  # head_platform and em_platform are first
    product = plain(by_team("Product"))
    dataplat = plain(by_team("Data Platform"))
    analytics = plain(by_team("Analytics"))
    security = plain(by_dept("Security"))
    finance = plain(by_dept("Finance"))
    it = plain(by_dept("IT"))

    prod_admins = [people["head_platform"], *platform[2:5], people["sod"]]
    nonprod_admins = [*prod_admins, people["em_platform"], people["breakfix"], *platform[5:9], dataplat[0],
                      dataplat[1]]
    developers = [*product, *platform, people["breakfix"], people["sod"], people["no_mfa"], people["renamed"],
                  people["upn_changed"], people["case"]]
    data_engineers = [*dataplat, people["no_external_id"], people["priya"], people["deleted"],
                      *[p for p in analytics if p["job_title"] == "Analytics Engineer"]]
    data_readonly = [people["head_analytics"], *[p for p in analytics if p["job_title"] != "Analytics Engineer"][:24],
                     people["disabled"], people["new_joiner"], people["multi_phone"]]
    security_audit = [*security, people["sod"]]
    network_admins = [*platform[9:12], it[0]]
    billing = [people["cfo"], people["controller"], *[p for p in finance if p["job_title"] == "FinOps Analyst"],
               next(p for p in finance if p["job_title"] == "Accountant")]
    finops = [people["controller"], *[p for p in finance if p["job_title"] == "FinOps Analyst"]]
    readonly_all = [people["cto"], people["head_platform"], people["em_platform"], people["ciso"], people["stale"],
                    *[p for p in product if p["job_title"] == "Engineering Manager"],
                    *[p for p in dataplat if p["job_title"].startswith("Engineering Manager")]]
    incident = [*platform[0:2], *platform[12:16]]
    sandbox = enabled([p for p in everyone if p["department"] == "Engineering"])
    guests = [people["guest1"], people["guest2"]]
    contractors = [people["contractor1"], people["contractor2"]]

    aws = {
        "AWS-Prod-Admins": prod_admins, "AWS-NonProd-Admins": nonprod_admins, "AWS-Developers": developers,
        "AWS-Sandbox-Users": sandbox, "AWS-Data-Engineers": data_engineers, "AWS-Data-ReadOnly": data_readonly,
        "AWS-Security-Audit": security_audit, "AWS-Network-Admins": network_admins, "AWS-Billing": billing,
        "AWS-ReadOnly-All": readonly_all, "AWS-External-Auditors": guests, "AWS-Incident-Responders": incident,
        "AWS-FinOps-Viewers": finops,
    }
    for name, members in aws.items():
        aws[name] = unique_people(members)
    g = group_entry

    all_employees = [p for p in rows if p.get("employee_id") and p.get("user_type") != "Guest"]
    groups = [
        g("All Employees", all_employees, "Everyone with an employee id (dynamic)", mail_nickname="allemployees",
          mail_enabled=True, dynamic_rule='(user.userType -eq "Member") and (user.employeeId -ne null)',
          created="now-2800d"),
        g("Leadership Team", [people[k] for k in ("ceo", "cto", "cfo", "coo", "cro", "cpo", "head_platform",
                                                  "head_analytics", "ciso", "controller")],
          "Executives and heads of function", mail_nickname="leadership", mail_enabled=True, created="now-2700d"),
        g("Dept - Engineering", [people["cto"]], "Engineering department (teams nested)",
          member_groups=["Eng - Platform", "Eng - Product", "Eng - Data Platform"], created="now-2600d"),
        g("Eng - Platform", [p for p in everyone if p.get("_team") == "Platform"],
          created="now-2100d"),
        g("Eng - Product", [p for p in everyone if p.get("_team") == "Product"],
          created="now-2100d"),
        g("Eng - Data Platform", [p for p in everyone if p.get("_team") == "Data Platform"],
          created="now-1300d"),
    ]
    for dept in ("Data & Analytics", "Security", "IT", "Finance", "Sales", "Marketing", "Customer Success", "HR",
                 "Legal", "Operations"):
        groups.append(g(f"Dept - {dept}", [p for p in everyone if p["department"] == dept
                                           and not p.get("_contractor")], created=f"now-{rng.randint(900, 2600)}d"))
    for key, city in (("lon", "London"), ("ber", "Berlin"), ("lis", "Lisboa")):
        groups.append(g(f"Office - {city}", [p for p in everyone if p.get("_office") == key],
                        mail_nickname=f"office-{ascii_fold(city)}", mail_enabled=True,
                        created=f"now-{rng.randint(1000, 2800)}d"))
    groups += [
        g("Contractors", [people["consultant"]], "External contractors (nested by supplier)",
          member_groups=["Data-Contractors"], created="now-1100d"),
        g("Data-Contractors", contractors, "Tailspin Data Services analysts", created="now-95d"),
        g("Guests - Fabrikam Audit", guests, "External auditors, FY audit", created="now-80d"),
        g("CA-Exclusions", [people["breakglass"], people["no_mfa"]],
          "Excluded from Conditional Access (break glass; temporary exceptions)", created="now-1500d"),
        g("VPN Users", [p for p in everyone if p["department"] in ("Engineering", "IT", "Security")
                        and p.get("account_enabled", True) and not p.get("deleted")], created="now-2000d"),
        g("SaaS - GitHub", [p for p in everyone if p["department"] == "Engineering"],
          created="now-1900d"),
        g("SaaS - Tableau", [p for p in everyone if p["department"] in ("Data & Analytics", "Finance")
                             and not p.get("_contractor")], created="now-1200d"),
        g("SaaS - Salesforce", [p for p in everyone if p["department"] in ("Sales", "Customer Success")
                               ], created="now-2200d"),
    ]
    aws_meta = {
        "AWS-Prod-Admins": ("Administrator on production and core accounts", "now-900d"),
        "AWS-NonProd-Admins": ("Administrator on staging and dev accounts", "now-900d"),
        "AWS-Developers": ("PowerUser on dev/staging, read-only on prod", "now-900d"),
        "AWS-Sandbox-Users": ("Every enabled engineer: sandbox accounts (dynamic)", "now-600d"),
        "AWS-Data-Engineers": ("DataEngineer on the data accounts", "now-700d"),
        "AWS-Data-ReadOnly": ("Read-only on the data accounts", "now-700d"),
        "AWS-Security-Audit": ("SecurityAudit everywhere", "now-900d"),
        "AWS-Network-Admins": ("NetworkAdmin on network and shared services", "now-800d"),
        "AWS-Billing": ("Billing console on the management account", "now-850d"),
        "AWS-ReadOnly-All": ("Read-only on all workload accounts (managers)", "now-850d"),
        "AWS-External-Auditors": ("Read-only for the external auditors", "now-78d"),
        "AWS-Incident-Responders": ("Read-only on platform-prod during incidents", "now-500d"),
        "AWS-FinOps-Viewers": ("Cost Explorer for FinOps (requested CHG-4471)", "now-90m"),
    }
    for name, members in aws.items():
        description, created = aws_meta[name]
        extra = {}
        if name == "AWS-Sandbox-Users":
            extra["dynamic_rule"] = '(user.department -eq "Engineering") and (user.accountEnabled -eq true)'
        if name == "AWS-Data-ReadOnly":
            extra["member_groups"] = ["Data-Contractors"]
        if name == "AWS-Incident-Responders":
            extra["idc"] = {"recreated": True}
        if name == "AWS-FinOps-Viewers":
            extra["idc"] = {"present": False}
        if name == "AWS-Network-Admins":
            extra["idc"] = {"display_name": "AWS-NetOps"}  # renamed in Entra; Identity Center kept the old name
        groups.append(g(name, members, description, created=created, **extra))
    return groups, aws


# ----------------------------------------------------------------------------------------------- AWS

ACCOUNTS = [
    # id, name, ou, environment, owner
    (MANAGEMENT_ACCOUNT, "northwind-management", "", "prod", "cloud-platform"),
    ("739128465021", "log-archive", "Security", "prod", "security"),
    ("518304927736", "security-tooling", "Security", "prod", "security"),
    ("264781093358", "shared-services", "Infrastructure", "prod", "cloud-platform"),
    ("847120396514", "network", "Infrastructure", "prod", "cloud-platform"),
    ("193846572019", "platform-prod", "Workloads/Prod", "prod", "cloud-platform"),
    ("605937284162", "insights-prod", "Workloads/Prod", "prod", "product-engineering"),
    ("372059184627", "data-prod", "Workloads/Prod", "prod", "data-platform"),
    ("928374610553", "platform-staging", "Workloads/NonProd", "staging", "cloud-platform"),
    ("481736205947", "data-staging", "Workloads/NonProd", "staging", "data-platform"),
    ("657203918476", "dev-shared", "Workloads/NonProd", "dev", "product-engineering"),
    ("814629370185", "sandbox-01", "Sandbox", "dev", "product-engineering"),
    ("230918475602", "sandbox-02", "Sandbox", "dev", "product-engineering"),
]
PROD = [a[1] for a in ACCOUNTS if a[3] == "prod"]
ALL = [a[1] for a in ACCOUNTS]
WORKLOADS = [a[1] for a in ACCOUNTS if a[2].startswith("Workloads")]


def accounts() -> list[dict]:
    out = []
    for account_id, name, ou, env, owner in ACCOUNTS:
        tags = {"environment": env, "owner": f"{owner}@{DOMAIN}", "cost-center": {
            "cloud-platform": "CC-1100", "security": "CC-1300", "product-engineering": "CC-1200",
            "data-platform": "CC-1400"}[owner]}
        if name == "data-prod":
            tags["data-classification"] = "confidential"
        out.append({"id": account_id, "name": name, "email": f"aws+{name}@{DOMAIN}", "ou": ou, "tags": tags})
    return out


# Clean counterpart of aws.account_instances_allowed: AWS's SCP against account instances, on the root.
SERVICE_CONTROL_POLICIES = [
    {"name": "DenyAccountInstances", "description": "No account instances of IAM Identity Center",
     "statements": [{"Sid": "DenyMemberAccountInstances", "Effect": "Deny", "Action": "sso:CreateInstance",
                     "Resource": "*"}], "targets": ["root"]},
]


def unique_people(members: list[dict]) -> list[dict]:
    """Members in order, each person once (a person can qualify for a group twice)."""
    seen: set = set()
    return [p for p in members if not (p["upn"] in seen or seen.add(p["upn"]))]


def group_entry(name, members=(), description=None, **extra) -> dict:
    """A scenario group: display name, description, any other keys, then its members' UPNs."""
    group = {"display_name": name}
    if description:
        group["description"] = description
    group.update(extra)
    group["members"] = [p["upn"] for p in members]
    return group


def render_rows(w, key: str, rows: list, indent: str = "  ") -> None:
    """A YAML list of flow-style rows under `key` (the scenario's long tables: one row a line)."""
    w(f"{indent}{key}:")
    for row in rows:
        w(f"{indent}  - {flow(row)}")


def render_conditional_access(w, policies: list[dict]) -> None:
    """entra.conditional_access: one policy a block, long lists wrapped (both demo variants write it)."""
    w("  conditional_access:")
    for policy in policies:
        w(f"    - display_name: {scalar(policy['display_name'])}")
        for key, value in policy.items():
            if key == "display_name":
                continue
            if isinstance(value, list) and len(value) > 4:
                w(f"      {key}: {wrapped_list(value, 8)}")
            else:
                w(f"      {key}: {flow(value)}")


def render_scps(w, aws: dict) -> None:
    w("  # AWS's SCP against account instances of Identity Center, attached to the root.")
    render_rows(w, "service_control_policies", aws["service_control_policies"])


def permission_sets() -> list[dict]:
    data_inline = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "LakeBuckets", "Effect": "Allow",
             "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"],
             "Resource": ["arn:aws:s3:::nw-datalake-*", "arn:aws:s3:::nw-datalake-*/*"]},
            {"Sid": "GlueJobs", "Effect": "Allow", "Action": ["glue:*"], "Resource": "*"},
            {"Sid": "PassGlueRole", "Effect": "Allow", "Action": "iam:PassRole",
             "Resource": "arn:aws:iam::*:role/service-role/nw-glue-etl",
             "Condition": {"StringEquals": {"iam:PassedToService": "glue.amazonaws.com"}}},
        ],
    }
    sandbox_inline = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "LetEngineersWireUpServices", "Effect": "Allow",
             "Action": ["iam:PassRole", "iam:CreateRole", "iam:AttachRolePolicy", "iam:PutRolePolicy"],
             "Resource": "*"},
        ],
    }
    aws = "arn:aws:iam::aws:policy/"
    return [
        {"name": "AdministratorAccess", "description": "Full administrator (break-fix and platform team)",
         "session_duration": "PT1H", "managed_policies": [aws + "AdministratorAccess"],
         "tags": {"tier": "privileged"}},
        {"name": "PowerUser", "description": "Everything but IAM and Organizations",
         "session_duration": "PT2H", "managed_policies": [aws + "PowerUserAccess"]},
        {"name": "ReadOnly", "description": "Read-only across services",
         "session_duration": "PT2H", "managed_policies": [aws + "ReadOnlyAccess"]},
        {"name": "Billing", "description": "Billing and Cost Management console",
         "session_duration": "PT1H", "managed_policies": [aws + "job-function/Billing"],
         "relay_state": "https://console.aws.amazon.com/billing/home"},
        {"name": "DataEngineer", "description": "Glue, Athena and the data lake buckets",
         "session_duration": "PT12H", "managed_policies": [aws + "AmazonAthenaFullAccess"],
         "customer_managed_policies": [{"name": "DataLakeReadAll", "path": "/northwind/"}],
         "inline_policy": data_inline, "not_reprovisioned_in": ["data-staging"]},
        {"name": "SecurityAudit", "description": "Security audit and read-only configuration",
         "session_duration": "PT1H", "managed_policies": [aws + "SecurityAudit", aws + "job-function/ViewOnlyAccess"]},
        {"name": "NetworkAdmin", "description": "Network administration within the NetworkAdminBoundary",
         "session_duration": "PT1H", "managed_policies": [aws + "job-function/NetworkAdministrator"],
         "boundary": {"customer_managed": {"name": "NetworkAdminBoundary", "path": "/boundaries/"}}},
        {"name": "DeveloperSandbox", "description": "Sandbox accounts: PowerUser plus role creation",
         "session_duration": "PT2H", "managed_policies": [aws + "PowerUserAccess"], "inline_policy": sandbox_inline},
        {"name": "SupportUser", "description": "AWS Support cases (created for the 2023 migration)",
         "session_duration": "PT1H", "managed_policies": [aws + "AWSSupportAccess"]},
    ]


def account_assignments(people: People) -> list[dict]:
    def a(principal_kind, principal, ps, accts):
        return {principal_kind: principal, "permission_set": ps, "accounts": list(accts)}

    return [
        a("group", "AWS-Prod-Admins", "AdministratorAccess", PROD),
        a("group", "AWS-NonProd-Admins", "AdministratorAccess", ["platform-staging", "data-staging", "dev-shared"]),
        a("group", "AWS-Developers", "PowerUser", ["platform-staging", "dev-shared"]),
        a("group", "AWS-Developers", "ReadOnly", ["platform-prod", "insights-prod"]),
        a("group", "AWS-Sandbox-Users", "DeveloperSandbox", ["sandbox-01", "sandbox-02"]),
        a("group", "AWS-Data-Engineers", "DataEngineer", ["data-prod", "data-staging"]),
        a("group", "AWS-Data-Engineers", "ReadOnly", ["insights-prod"]),
        a("group", "AWS-Data-ReadOnly", "ReadOnly", ["data-prod", "data-staging"]),
        a("group", "AWS-Security-Audit", "SecurityAudit", ALL),
        a("group", "AWS-Security-Audit", "ReadOnly", ["log-archive", "security-tooling"]),
        a("group", "AWS-Network-Admins", "NetworkAdmin", ["network", "shared-services"]),
        a("group", "AWS-Billing", "Billing", ["northwind-management"]),
        a("group", "AWS-ReadOnly-All", "ReadOnly", WORKLOADS),
        a("group", "AWS-External-Auditors", "ReadOnly", ["log-archive", "northwind-management"]),
        a("group", "AWS-External-Auditors", "SecurityAudit", PROD),
        a("group", "AWS-Incident-Responders", "ReadOnly", ["platform-prod"]),
        a("user", people.upn("breakfix"), "AdministratorAccess", ["insights-prod"]),
        a("idc_group", "Legacy-Platform-Admins", "ReadOnly", ["shared-services"]),
    ]


def access_holders(groups: list[dict], aws_groups: dict, people: People, assignments: list[dict]) -> dict:
    """UPN -> person for everyone SCIM provisions and who then holds at least one account assignment."""
    provisioned_groups = {g["display_name"] for g in groups if g.get("idc", {}).get("present", True)}
    assigned = {a["group"] for a in assignments if "group" in a and a["group"] != "AWS-Incident-Responders"}
    holders = {}
    for name in sorted(assigned & provisioned_groups):
        for p in aws_groups[name]:
            holders[p["upn"]] = p
    holders[people.upn("breakfix")] = people["breakfix"]
    for key in ("new_joiner", "multi_phone"):
        holders.pop(people.upn(key), None)  # not in Identity Center: no access yet
    return holders


# ----------------------------------------------------------------------------------------------- sign-ins

OFFICE_IPS = {"lon": "203.0.113.{}", "ber": "198.51.100.{}", "lis": "192.0.2.{}"}
FAILURES = [
    (50126, "Error validating credentials due to invalid username or password."),
    (50076, "Due to a configuration change made by your administrator, or because you moved to a new location, "
            "you must use multi-factor authentication to access the application."),
    (500121, "Authentication failed during strong authentication request."),
    (53003, "Access has been blocked by Conditional Access policies. The access policy does not allow token "
            "issuance."),
]


def sign_ins(rng: random.Random, people: People, holders: dict) -> tuple[list[dict], list[dict]]:
    entra: list[dict] = []
    aws: list[dict] = []
    special_aws_name = {people.upn("case"): f"Tomas.Horak@{DOMAIN}"}
    skip = {people.upn(k) for k in ("stale", "upn_changed", "disabled", "deleted")}

    def ip_for(person: dict) -> str:
        office = person.get("_office", "lon")
        if rng.random() < 0.25:  # home or travel
            return f"198.51.100.{rng.randint(150, 250)}"
        return OFFICE_IPS[office].format(rng.randint(10, 40))

    def entry(person, minutes, ip, *, status="success", code=0, reason=None, mfa=True, ca="success"):
        row = {"user": person["upn"], "at": f"now-{minutes}m"}
        if status != "success":
            row.update(status=status, error_code=code, failure_reason=reason)
        if not mfa:
            row["mfa"] = False
        if ca != "success":
            row["conditional_access"] = ca
        if ip != "203.0.113.10":
            row["ip"] = ip
        return row

    def portal(person, minutes, ip, status="success", reason=None):
        row = {"user": special_aws_name.get(person["upn"], person["upn"]), "at": f"now-{minutes - 0.1:.1f}m"}
        if status != "success":
            row.update(status=status, failure_reason=reason)
        if ip != "203.0.113.10":
            row["ip"] = ip
        return row

    events: list[tuple[int, dict, dict | None]] = []
    for upn, person in holders.items():
        if upn in skip:
            continue
        busy = person.get("department") == "Engineering" or "Admin" in person.get("job_title", "")
        count = rng.choice([1, 2, 2, 3, 3, 4, 5]) + (rng.randint(0, 3) if busy else 0)
        if person.get("user_type") == "Guest":
            count = 2
        last_hours = int(person.get("last_sign_in", "now-24h")[4:-1]) if person.get("last_sign_in", "").endswith(
            "h") else 24 * int(person["last_sign_in"][4:-1])
        latest = max(30, last_hours * 60 + rng.randint(5, 90))
        times = sorted({latest, *[rng.randint(latest, 30 * 1440 - 60) for _ in range(count - 1)]})
        for minutes in times:
            ip = ip_for(person)
            no_mfa = upn == people.upn("no_mfa")
            if not no_mfa and rng.random() < 0.07:
                code, reason = rng.choice(FAILURES)
                ca = {53003: "failure", 50126: "notApplied"}.get(code, "success")
                events.append((minutes + 2, entry(person, minutes + 2, ip, status="failure", code=code,
                                                  reason=reason, mfa=False, ca=ca), None))
            events.append((minutes, entry(person, minutes, ip, mfa=not no_mfa,
                                          ca="notApplied" if no_mfa else "success"), portal(person, minutes, ip)))

    # Planted stories in the logs.
    p = people
    ip_lis = OFFICE_IPS["lis"].format(17)
    # Mateus: fine until his UPN changed an hour ago (Identity Center saw his old user name), then no such user.
    # Entra's log rows name the user as he is now: a scenario cannot name a UPN that no longer exists.
    old_name = p["upn_changed"]["idc"]["user_name"]
    for minutes in (4 * 1440 + 300, 11 * 1440 + 70, 19 * 1440 + 545):
        events.append((minutes, entry(p["upn_changed"], minutes, ip_lis),
                       {"user": old_name, "at": f"now-{minutes - 0.1:.1f}m", "ip": ip_lis}))
    for minutes in (48, 41):
        events.append((minutes, entry(p["upn_changed"], minutes, ip_lis),
                       {"user": p.upn("upn_changed"), "at": f"now-{minutes - 0.1:.1f}m", "status": "failure",
                        "ip": ip_lis, "failure_reason": "No user in the identity store matches the SAML NameID"}))
    ip_ber = OFFICE_IPS["ber"].format(23)
    for minutes in (6 * 1440 + 200, 9 * 1440 + 15, 15 * 1440 + 400):  # Marek, before he left
        events.append((minutes, entry(p["disabled"], minutes, ip_ber), portal(p["disabled"], minutes, ip_ber)))
    events.append((1500, entry(p["disabled"], 1500, "198.51.100.201", status="failure", code=50057,
                               reason="User account is disabled. The account has been disabled by an administrator.",
                               mfa=False, ca="notApplied"), None))
    ip_lon = OFFICE_IPS["lon"].format(31)
    for minutes in (1560, 3 * 1440 + 100, 8 * 1440 + 640, 13 * 1440 + 20):  # Olivia, before deletion
        events.append((minutes, entry(p["deleted"], minutes, ip_lon), portal(p["deleted"], minutes, ip_lon)))
    for key in ("contractor1", "contractor2"):  # nested only: Entra says not assigned
        person = p[key]
        for minutes in (rng.randint(2000, 20000), rng.randint(100, 1900)):
            events.append((minutes, entry(person, minutes, OFFICE_IPS[person["_office"]].format(33),
                                          status="failure", code=50105,
                                          reason="The signed in user is not assigned to a role for the application.",
                                          mfa=False, ca="notApplied"), None))
    ip_cons = "198.51.100.77"
    events.append((3 * 1440 + 15, entry(p["consultant"], 3 * 1440 + 15, ip_cons),
                   {"user": p.upn("consultant"), "at": f"now-{3 * 1440 + 14.9:.1f}m", "status": "failure",
                    "ip": ip_cons, "failure_reason": "No user in the identity store matches the SAML NameID"}))
    events.append((18, entry(p["new_joiner"], 18, ip_lis),
                   {"user": p.upn("new_joiner"), "at": "now-17.9m", "status": "failure", "ip": ip_lis,
                    "failure_reason": "No user in the identity store matches the SAML NameID"}))

    events.sort(key=lambda e: (e[0], e[1]["user"]))
    for _, entra_row, aws_row in events:
        entra.append(entra_row)
        if aws_row:
            aws.append(aws_row)
    return entra, aws


def newest_sign_in_fix(people: People, entra_rows: list[dict]) -> None:
    """Entra's lastSignInDateTime is at least as recent as the newest sign-in to the AWS app."""
    newest: dict[str, int] = {}
    for row in entra_rows:
        minutes = int(float(row["at"][4:-1]))
        newest[row["user"]] = min(newest.get(row["user"], 10 ** 9), minutes)
    for person in people.rows:
        if person["upn"] not in newest or "last_sign_in" not in person:
            continue
        text = person["last_sign_in"]
        current = int(text[4:-1]) * (60 if text.endswith("h") else 1440 if text.endswith("d") else 1)
        if newest[person["upn"]] < current:
            person["last_sign_in"] = f"now-{newest[person['upn']]}m"


# ----------------------------------------------------------------------------------------------- faults

def faults(people: People) -> list[dict]:
    u = lambda key: "user:" + people.upn(key)  # noqa: E731
    app = "app:" + APP_NAME

    def f(check, subject, note):
        return {"check": check, "subject": subject, "note": note}

    return [
        f("saml.certificate_expiry", app, "the active signing certificate expires in 20 days"),
        f("saml.sign_in_refused", u("upn_changed"),
          "his UPN changed an hour ago; Identity Center still has the old user name, so AWS refuses his NameID"),
        f("saml.sign_in_refused", u("consultant"), "refused by SCIM, so no Identity Center user matches his NameID"),
        f("saml.sign_in_refused", u("new_joiner"), "signed in before the (overdue) cycle that would create him"),
        f("aws.identity_source_changed", app,
          "Sanne de Vries disabled and re-enabled the Entra IdP configuration 9 days ago, with no change ticket"),
        f("saml.certificate_rotation_pending", app,
          "a new certificate was added 6 days ago but is neither active nor uploaded to Identity Center"),
        f("saml.reply_url_missing", app,
          f"{EXTRA_REGION} was added to Identity Center; its ACS URL is not among the reply URLs"),
        f("saml.wildcard_reply_url", app,
          "the gallery template's wildcard was copied into the reply URLs and never removed"),
        f("saml.login_url_mismatch", app,
          "the sign-on URL is the pilot instance's access portal (d-93670c2a1f.awsapps.com/start)"),
        f("provisioning.scim_token_expiry", app, "the SCIM token is 340 days old: it expires in about 25 days"),
        f("provisioning.cycle_overdue", app, "the last successful cycle ended 2 h 40 min ago"),
        f("provisioning.errors", u("svc"), "CreateUser refused: name.givenName missing"),
        f("provisioning.errors", u("multi_phone"), "CreateUser refused: phoneNumbers exceeds allowed limit of 1"),
        f("provisioning.errors", u("consultant"), "CreateUser refused: forbidden character in displayName"),
        f("provisioning.errors", u("adm_priya"), "CreateUser refused: duplicate email"),
        f("reconcile.missing_in_idc", u("new_joiner"), "added after the last (overdue) cycle"),
        f("reconcile.missing_in_idc", u("svc"), "refused by SCIM (missing names)"),
        f("reconcile.missing_in_idc", u("multi_phone"), "refused by SCIM (two phone numbers)"),
        f("reconcile.missing_in_idc", u("consultant"), "refused by SCIM (forbidden character)"),
        f("reconcile.missing_in_idc", u("adm_priya"), "refused by SCIM (duplicate email)"),
        f("reconcile.missing_in_idc", "group:AWS-FinOps-Viewers", "assigned to the app after the last cycle"),
        f("reconcile.extra_in_idc", u("deleted"), "deleted in Entra, still in Identity Center"),
        f("reconcile.extra_in_idc", "user:platform.admin@" + DOMAIN, "created by hand before SCIM was enabled"),
        f("reconcile.extra_in_idc", "group:Legacy-Platform-Admins", "created by hand before SCIM was enabled"),
        f("reconcile.created_by_hand", "user:platform.admin@" + DOMAIN, "Identity Center user, not from SCIM"),
        f("reconcile.created_by_hand", "group:Legacy-Platform-Admins", "Identity Center group, not from SCIM"),
        f("reconcile.group_membership", "group:AWS-Data-ReadOnly",
          "Tiago Mendonça and Adaeze Okafor are direct members in Entra but not in Identity Center"),
        f("reconcile.group_membership", "group:AWS-Data-Engineers",
          "Identity Center still lists Olivia Grant, deleted in Entra"),
        f("reconcile.group_name_drift", "group:AWS-Network-Admins",
          "renamed from AWS-NetOps in Entra; the Identity Center group still has the old name"),
        f("reconcile.attribute_mismatch", u("renamed"), "Identity Center has the old surname / display name"),
        f("reconcile.username_mismatch", u("upn_changed"), f"Identity Center user name is the old "
                                                           f"@{DEFAULT_DOMAIN} UPN"),
        f("reconcile.username_case", u("case"), f"Identity Center user name is Tomas.Horak@{DOMAIN}"),
        f("reconcile.external_id", u("no_external_id"), "Identity Center user has no externalId"),
        f("reconcile.orphaned_assignment", "account:193846572019",
          "ReadOnly for AWS-Incident-Responders points at the group's id before it was deleted and recreated"),
        f("reconcile.disabled_still_enabled", u("disabled"), "disabled in Entra 2 days ago, active in Identity Center"),
        f("reconcile.disabled_still_enabled", u("deleted"), "deleted in Entra, active in Identity Center"),
        f("scim.nested_group_only", u("contractor1"), "only in Data-Contractors, nested in AWS-Data-ReadOnly"),
        f("scim.nested_group_only", u("contractor2"), "only in Data-Contractors, nested in AWS-Data-ReadOnly"),
        f("scim.missing_required_attribute", u("svc"), "service account without given name and surname"),
        f("scim.multi_valued_attribute", u("multi_phone"),
          "business phone and mobile both set; the app maps mobile to a second phoneNumbers value"),
        f("scim.forbidden_characters", u("consultant"), 'displayName Robert "Bob" Lindqvist holds double quotes'),
        f("scim.duplicate_value", u("adm_priya"), "mail is Priya Raman's mailbox"),
        f("scim.duplicate_value", u("priya"), "her mail is also set on adm-priya.raman"),
        f("scim.guest_name_id", u("guest1"), "guest with AWS access; the claims have no guest NameID condition"),
        f("scim.guest_name_id", u("guest2"), "guest with AWS access; the claims have no guest NameID condition"),
        f("aws.permission_set_not_reprovisioned", "permission_set:DataEngineer",
          "inline policy edited 6 days ago, re-provisioned to data-prod only, not to data-staging"),
        f("access.privileged_permission_set", "permission_set:AdministratorAccess", "AdministratorAccess policy"),
        f("access.privileged_permission_set", "permission_set:DeveloperSandbox",
          "inline policy allows iam:PassRole and iam:CreateRole on *, no boundary"),
        f("access.privileged_prod_access", "group:AWS-Prod-Admins",
          "AdministratorAccess on every production account (expected, to be reviewed)"),
        f("access.privileged_prod_access", u("breakfix"), "AdministratorAccess on insights-prod, directly"),
        f("access.direct_user_assignment", u("breakfix"), "assigned AdministratorAccess on insights-prod directly"),
        f("access.guest_access", u("guest1"), "ReadOnly and SecurityAudit on production through AWS-External-Auditors"),
        f("access.guest_access", u("guest2"), "ReadOnly and SecurityAudit on production through AWS-External-Auditors"),
        f("access.disabled_user_access", u("disabled"), "disabled, still in AWS-Data-ReadOnly in Identity Center"),
        f("access.disabled_user_access", u("deleted"), "deleted, still in AWS-Data-Engineers in Identity Center"),
        f("access.stale_user", u("stale"), "no sign-in on either side for 130 days"),
        f("access.stale_user", "user:platform.admin@" + DOMAIN,
          "hand-made Identity Center user with ReadOnly: cannot sign in through Entra, never does"),
        f("access.no_mfa", u("no_mfa"), "no MFA method registered; excluded from the MFA policy"),
        f("access.long_session", "permission_set:DataEngineer", "session duration PT12H"),
        f("access.unused_permission_set", "permission_set:SupportUser", "assigned nowhere"),
        f("access.sod_conflict", u("sod"),
          "AdministratorAccess (AWS-Prod-Admins) and SecurityAudit (AWS-Security-Audit), if that pair is declared "
          "incompatible"),
    ]


# ----------------------------------------------------------------------------------------------- PIM for Groups

PIM_JIT = "AWS-Platform-Prod-JIT"  # PIM-managed, assigned to the app: the five PIM faults
PIM_CLEAN = "AWS-Security-Forensics-JIT"  # PIM-managed, assigned, used as intended: silent
PIM_NESTED = "Data-Prod-Operators"  # PIM-managed, only nested in AWS-Data-Engineers


def pim_people(people: People, aws_groups: dict) -> dict[str, list[dict]]:
    """Who the PIM groups draw on: people who already hold AWS access through other groups (so they have the
    sign-ins everyone with access has) and carry no other planted fault."""
    named = {people.upn(key) for key, *_ in NAMED}

    def pick(group: str) -> list[dict]:
        return [p for p in aws_groups[group] if "_comment" not in p and p["upn"] not in named]

    return {"platform": pick("AWS-NonProd-Admins"), "security": pick("AWS-Security-Audit"),
            "data": pick("AWS-Data-Engineers")}


def pim_history_person(people: People, aws_groups: dict) -> dict:
    """The IT systems administrator whose only AWS access is AWS-Platform-Prod-JIT: assigned to the app herself (so
    provisioned, with no account of her own), eligible for the group. Her activation is history (Graph serves it
    only as requests): asked for 4 h at now-420m, deactivated by herself at now-300m; Identity Center still holds
    the membership, and she signed in to the access portal at now-240m through it (and at now-400m, during it)."""
    named = {people.upn(key) for key, *_ in NAMED}
    in_aws = {p["upn"] for members in aws_groups.values() for p in members}
    return next(p for p in people.rows if p.get("job_title") == "Systems Administrator" and "_comment" not in p
                and p["upn"] not in named | in_aws)


def pim_history_sign_ins(person: dict) -> tuple[list[dict], list[dict]]:
    """Her Entra sign-ins to the app and the access-portal sign-ins that followed (now-400m: during the
    activation, clean; now-240m: after she deactivated it, the planted fault)."""
    ip = OFFICE_IPS[person.get("_office", "lon")].format(27)
    return ([{"user": person["upn"], "at": f"now-{m}m", "ip": ip} for m in (240, 400)],
            [{"user": person["upn"], "at": f"now-{m - 0.1:.1f}m", "ip": ip} for m in (240, 400)])


def pim_groups(people: People, aws_groups: dict) -> list[dict]:
    """`entra.pim_groups`. Windows stay within the demo's story: the last provisioning cycle was 160 minutes ago
    (checks.provisioning_cycle_minutes is 40), checks.max_pim_activation_hours is 8."""
    who = pim_people(people, aws_groups)
    c, s, d = who["platform"], who["security"], who["data"]
    h = pim_history_person(people, aws_groups)["upn"]
    return [
        {"group": PIM_JIT,
         "eligible": [{"user": p["upn"], "start": "now-120d"} for p in c[:4]] + [{"user": h, "start": "now-30d"}],
         "active": [
             {"user": c[0]["upn"], "start": "now-60m", "end": "now+180m"},  # 4 h: as intended
             {"user": c[1]["upn"], "start": "now-10m", "end": "now+20m"},  # FAULT: 30 min < one cycle
             {"user": c[2]["upn"], "start": "now-120m", "end": "now+600m"},  # FAULT: 12 h > 8 h
             {"user": c[3]["upn"], "start": "now-360m", "end": "now-120m", "still_in_idc": True},  # FAULT: lingers
             {"user": people.upn("em_platform"), "start": "now-200d", "type": "assigned"},  # FAULT: permanent
             # FAULT: history only; lingers, and she signed in after it (pim_history_person)
             {"user": h, "start": "now-420m", "end": "now-180m", "deactivated": "now-300m", "still_in_idc": True},
         ]},
        {"group": PIM_CLEAN,
         "eligible": [{"user": p["upn"], "start": "now-90d"} for p in s[:3]],
         "active": [{"user": s[0]["upn"], "start": "now-90m", "end": "now+150m"}]},
        {"group": PIM_NESTED,  # FAULT: eligible people, but the group is only nested in AWS-Data-Engineers
         "eligible": [{"user": p["upn"], "start": "now-45d"} for p in d[:2]]},
    ]


def pim_entra_groups(pim: list[dict], groups: list[dict]) -> list[str]:
    """Adds the PIM-managed groups to `groups` (members: the activations in force, which PIM puts in the group) and
    nests PIM_NESTED in AWS-Data-Engineers. Returns the groups to assign to the app."""
    by_name = {g["display_name"]: g for g in groups}
    meta = {PIM_JIT: ("PowerUser on platform-prod, just in time through PIM (CHG-4102)", "now-200d"),
            PIM_CLEAN: ("Read-only on the log and security accounts during investigations, through PIM", "now-150d"),
            PIM_NESTED: ("Data-prod operators, just in time through PIM", "now-60d")}
    for entry in pim:
        description, created = meta[entry["group"]]
        in_force = [a["user"] for a in entry.get("active", []) if not a.get("end", "now+").startswith("now-")]
        groups.append({"display_name": entry["group"], "description": description, "created": created,
                       "members": in_force})
    engineers = by_name["AWS-Data-Engineers"]
    engineers["member_groups"] = [*engineers.get("member_groups", []), PIM_NESTED]
    return [PIM_JIT, PIM_CLEAN]


def pim_account_assignments() -> list[dict]:
    return [{"group": PIM_JIT, "permission_set": "PowerUser", "accounts": ["platform-prod"]},
            {"group": PIM_CLEAN, "permission_set": "ReadOnly", "accounts": ["log-archive", "security-tooling"]}]


def pim_faults(pim: list[dict], people: People) -> list[dict]:
    jit = pim[0]["active"]
    u = lambda upn: "user:" + upn  # noqa: E731
    return [
        {"check": "access.pim_permanent_member", "subject": u(people.upn("em_platform")),
         "note": f"permanent active member of {PIM_JIT} since its set-up; the others there activate just in time"},
        {"check": "access.pim_activation_shorter_than_cycle", "subject": u(jit[1]["user"]),
         "note": f"activated {PIM_JIT} for 30 minutes, shorter than the 40-minute provisioning cycle"},
        {"check": "access.pim_activation_too_long", "subject": u(jit[2]["user"]),
         "note": f"activated {PIM_JIT} for 12 hours; the engagement allows 8"},
        {"check": "access.pim_membership_outlives_activation", "subject": u(jit[3]["user"]),
         "note": f"activation of {PIM_JIT} ended 2 hours ago; Identity Center still has the membership"},
        {"check": "reconcile.group_membership", "subject": "group:" + PIM_JIT,
         "note": f"Identity Center still lists {jit[3]['user']}, whose activation ended 2 hours ago"},
        {"check": "access.pim_group_nested", "subject": "group:" + PIM_NESTED,
         "note": "PIM-managed, nested in AWS-Data-Engineers, not assigned to the app: activations never reach AWS"},
        {"check": "access.pim_membership_outlives_activation", "subject": u(jit[5]["user"]),
         "note": f"deactivated her activation of {PIM_JIT} 5 hours ago; Identity Center still has the membership"},
        {"check": "access.pim_signin_after_activation_ended", "subject": u(jit[5]["user"]),
         "note": f"AWS portal sign-in 1 hour after she deactivated {PIM_JIT} (known only from the activation "
                 "requests); that membership, still in Identity Center, was her only route to AWS"},
    ]


# ----------------------------------------------------------------------------------------------- ABAC (issue 15)

# Data protection asked that the lake's personal data be read by Northwind's own staff only. ABAC is enabled in
# Identity Center with no attribute of its own; Entra sends the company name as the session tag Company. The
# statements were added to DataEngineer: the first is right, the other two are the planted faults.
ABAC_CLAIMS = {"Company": "user.companyname"}
ABAC_STATEMENTS = [
    {"Sid": "PersonalDataStaffOnly", "Effect": "Allow", "Action": "s3:GetObject",
     "Resource": "arn:aws:s3:::nw-datalake-personal/*",
     "Condition": {"StringLike": {"aws:PrincipalTag/Company": "Northwind Analytics*"}}},
    {"Sid": "NoSupplierOnRawData", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::nw-datalake-raw/*",
     "Condition": {"StringEquals": {"aws:PrincipalTag/Company": "Tailspin Data Services"}},
     "_comment": "FAULT: a plain operator in a Deny does not stop a session without the Company tag"},
    {"Sid": "OwnCostCentreReports", "Effect": "Allow", "Action": "ce:GetCostAndUsage", "Resource": "*",
     "Condition": {"StringEquals": {"aws:PrincipalTag/CostCenter": "CC-1400"}},
     "_comment": "FAULT: neither a claim nor Identity Center sends CostCenter"},
]


def abac_permission_sets(sets: list[dict]) -> list[dict]:
    """The demo's permission sets with ABAC_STATEMENTS in DataEngineer's inline policy (demo-real-shapes shares
    permission_sets() and has no ABAC)."""
    out = []
    for ps in sets:
        if ps["name"] == "DataEngineer":
            inline = ps["inline_policy"]
            ps = {**ps, "inline_policy": {**inline, "Statement": [*inline["Statement"], *ABAC_STATEMENTS]}}
        out.append(ps)
    return out


def abac_faults(people: People) -> list[dict]:
    """The service account and the admin account come from no HR record: no company name, so no Company tag."""
    def f(check, subject, note):
        return {"check": check, "subject": subject, "note": note}

    return [
        f("abac.tag_not_supplied", "permission_set:DataEngineer",
          "OwnCostCentreReports tests aws:PrincipalTag/CostCenter, which neither a claim nor Identity Center sends"),
        f("abac.condition_fails_open", "permission_set:DataEngineer",
          "Deny NoSupplierOnRawData with StringEquals on Company: a session without the tag is not denied"),
        f("abac.user_value_refused", "user:" + people.upn("svc"), "no company name: the session has no Company tag"),
        f("abac.user_value_refused", "user:" + people.upn("adm_priya"),
          "no company name: the session has no Company tag"),
    ]


# ----------------------------------------------------------------------------------------------- issue 17


def checkpoint_records() -> dict:
    """Guided checkpoints the consultant recorded after looking in the AWS console: both within the engagement's
    limits here (the broken-provisioning scenario plants the faulty values)."""
    return {"portal_session_hours": 8, "revocation_prepared": "scp"}


def render_checkpoint_records(w, engagement: dict) -> None:
    w("  # Guided checkpoints, read in the AWS console: access portal session length; where the deny policy for")
    w("  # revoking active sessions is prepared (an SCP, which the audit does not read).")
    for key in checkpoint_records():
        w(f"  {key}: {scalar(engagement[key])}")


def exposure_faults() -> list[dict]:
    """Exposure by position: the organisation instance is run from the management account (the demo registers no
    delegated administrator) and two groups hold permission sets there."""
    account = f"account:{MANAGEMENT_ACCOUNT}"
    return [
        {"check": "aws.no_delegated_admin", "subject": account,
         "note": "Identity Center is administered from the management account; no delegated administrator"},
        {"check": "access.management_account_assignment", "subject": account,
         "note": "Billing (AWS-Billing) and ReadOnly (AWS-External-Auditors) in northwind-management"},
    ]


# ----------------------------------------------------------------------------------------------- assembly


def build() -> tuple[dict, People, list[dict], dict]:
    from idbridge.sandbox.derived import acs_url
    from idbridge.sandbox.scenario import Scenario

    rng = random.Random(SEED)
    people = build_people(rng)
    planted_people(rng, people)
    assign_employee_ids(people)
    people.rows.sort(key=lambda person: "_comment" in person)  # planted people last, as written in the file
    groups, aws_groups = build_groups(rng, people)
    assignments = account_assignments(people)
    holders = access_holders(groups, aws_groups, people, assignments)
    entra_sign_ins, aws_sign_ins = sign_ins(rng, people, holders)
    history_person = pim_history_person(people, aws_groups)
    for rows, more in zip((entra_sign_ins, aws_sign_ins), pim_history_sign_ins(history_person)):
        for row in more:  # newest first, as sign_ins() writes them; the rows already there keep their order
            age = float(row["at"][4:-1])
            rows.insert(next((i for i, r in enumerate(rows) if float(r["at"][4:-1]) > age), len(rows)), row)
    newest_sign_in_fix(people, entra_sign_ins)

    skeleton = Scenario.model_validate({"scenario": "x", "tenant": {"id": TENANT_ID, "display_name": "x",
                                                                   "default_domain": DEFAULT_DOMAIN},
                                        "aws": {"management_account": MANAGEMENT_ACCOUNT,
                                                "identity_center": {"region": REGION}}})
    pim = pim_groups(people, aws_groups)
    pim_assigned = pim_entra_groups(pim, groups)
    assignments += pim_account_assignments()
    access_groups = [name for name in aws_groups if name != "AWS-FinOps-Viewers"] + pim_assigned
    app = {
        "display_name": APP_NAME,
        "app_id": APP_ID,
        "sso_mode": "saml",
        "reply_urls": [acs_url(skeleton, REGION)],
        "login_url": "https://d-93670c2a1f.awsapps.com/start",
        "keep_wildcard_reply_url": True,
        "signing_certificates": [
            {"display_name": "CN=Microsoft Azure Federated SSO Certificate", "start": "now-1075d", "end": "now+20d",
             "active": True, "uploaded_to_aws": "now-1074d"},
            {"display_name": "CN=Microsoft Azure Federated SSO Certificate", "start": "now-6d", "end": "now+1089d",
             "active": False},
        ],
        "claims": {"name_id_format": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
                   "name_id_source": "user.userprincipalname", "guest_name_id_source": None,
                   "access_control": ABAC_CLAIMS},
        "assignments": {"groups": list(aws_groups) + pim_assigned,
                        "users": [people.upn(k) for k in ("cto", "priya", "svc", "consultant", "adm_priya")]
                        + [history_person["upn"]]},
        "provisioning": {
            "status": "Active", "scope": "assigned", "token_valid": True, "token_created": "now-340d",
            "last_cycle": "now-160m", "steady_state_reached": True, "successive_failures": 0,
            "external_id_source": "objectId",
            "extra_mappings": [{"source": "mobile", "target": 'phoneNumbers[type eq "mobile"].value'}],
            "notification_email": f"cloud-platform@{DOMAIN}", "initial_sync": True,
        },
    }
    conditional_access = [
        {"display_name": "CA01 - Require MFA for AWS", "state": "enabled", "include_applications": ["aws"],
         "include_groups": access_groups, "exclude_groups": ["CA-Exclusions"], "grant_controls": ["mfa"]},
        {"display_name": "CA02 - Block legacy authentication", "state": "enabled", "include_applications": ["All"],
         "include_users": ["All"], "exclude_groups": ["CA-Exclusions"], "grant_controls": ["block"]},
        {"display_name": "CA03 - Compliant device for AWS administrators",
         "state": "enabledForReportingButNotEnforced", "include_applications": ["aws"],
         "include_groups": ["AWS-Prod-Admins", "AWS-NonProd-Admins"], "grant_controls": ["compliantDevice"]},
    ]
    aws = {
        "management_account": MANAGEMENT_ACCOUNT,
        "service_control_policies": SERVICE_CONTROL_POLICIES,
        "identity_center": {
            "region": REGION, "extra_regions": [EXTRA_REGION], "instance_name": "northwind",
            "identity_source": "external_idp", "access_control_attributes": {},
            "users": [{"user_name": f"platform.admin@{DOMAIN}", "display_name": "Platform Admin",
                       "given_name": "Platform", "family_name": "Admin", "email": f"cloud-platform@{DOMAIN}"}],
            "groups": [{"display_name": "Legacy-Platform-Admins",
                        "description": "Created in the Identity Center directory before the switch to Entra",
                        "members": [f"platform.admin@{DOMAIN}"]}],
        },
        "accounts": accounts(),
        "permission_sets": abac_permission_sets(permission_sets()),
        "account_assignments": assignments,
        "sign_ins": aws_sign_ins,
        "cloudtrail": cloudtrail(people),
    }
    doc = {
        "scenario": "Northwind Analytics",
        "description": " ".join(DESCRIPTION_LINES),
        "tenant": {"id": TENANT_ID, "display_name": "Northwind Analytics", "default_domain": DEFAULT_DOMAIN,
                   "domains": [DOMAIN], "licence": "P2"},
        "entra": {"users": people.rows, "groups": groups, "aws_app": app, "conditional_access": conditional_access,
                  "sign_ins": entra_sign_ins, "pim_groups": pim},
        "aws": aws,
        # What the engagement's consultant records about this organisation: no API tells which permission sets
        # must not be held together.
        "engagement": {"sod_conflicts": [["AdministratorAccess", "SecurityAudit"]], **checkpoint_records()},
        "faults": faults(people) + exposure_faults() + pim_faults(pim, people) + abac_faults(people),
    }
    return doc, people, groups, aws_groups


def cloudtrail(people: People) -> list[dict]:
    sso, ids, scim, sdir = ("sso.amazonaws.com", "identitystore.amazonaws.com", "identitystore-scim.amazonaws.com",
                            "sso-directory.amazonaws.com")
    admin = people.upn("head_platform")
    return [
        {"name": "CreateBearerToken", "source": sdir, "at": "now-340d", "user": admin, "ip": "203.0.113.21"},
        {"name": "CreatePermissionSet", "source": sso, "at": "now-410d", "user": admin, "ip": "203.0.113.21",
         "detail": {"permissionSetName": "SupportUser"}},
        {"name": "AddRegion", "source": sso, "at": "now-62d", "user": admin, "ip": "203.0.113.21",
         "detail": {"regionName": EXTRA_REGION}},
        {"name": "CreateAccountAssignment", "source": sso, "at": "now-45d", "user": people.upn("em_platform"),
         "ip": "198.51.100.44", "detail": {"principalType": "USER", "principal": people.upn("breakfix"),
                                           "permissionSetName": "AdministratorAccess", "targetId": "605937284162",
                                           "ticket": "INC-2291"}},
        {"name": "DeleteGroup", "source": ids, "at": "now-12d", "user": people.upn("breakfix"), "ip": "203.0.113.18",
         "detail": {"displayName": "AWS-Incident-Responders"}},
        {"name": "CreateGroup", "source": scim, "at": "now-12d", "detail": {"displayName": "AWS-Incident-Responders"}},
        # FAULT: the Entra IdP configuration disabled and enabled again during an incident, with no change ticket
        {"name": "DisableExternalIdPConfigurationForDirectory", "source": sdir, "at": "now-12960m",
         "user": people.upn("breakfix"), "ip": "203.0.113.18"},
        {"name": "EnableExternalIdPConfigurationForDirectory", "source": sdir, "at": "now-12953m",
         "user": people.upn("breakfix"), "ip": "203.0.113.18"},
        {"name": "PutInlinePolicyToPermissionSet", "source": sso, "at": "now-6d", "user": people.upn("em_platform"),
         "ip": "198.51.100.44", "detail": {"permissionSetName": "DataEngineer"}},
        {"name": "ProvisionPermissionSet", "source": sso, "at": "now-6d", "user": people.upn("em_platform"),
         "ip": "198.51.100.44", "detail": {"permissionSetName": "DataEngineer", "targetId": "372059184627"}},
    ]


# ----------------------------------------------------------------------------------------------- emitting

_PLAIN = re.compile(r"[\w@.()/+=&#'-][\w@.()/+=&#' -]*")


def scalar(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    text = str(value)
    if _PLAIN.fullmatch(text) and not text.endswith(" ") and text[0] not in "&#'@-" and " #" not in text:
        try:
            if yaml.safe_load(f"[{text}]") == [text]:
                return text
        except yaml.YAMLError:
            pass
    return json.dumps(text, ensure_ascii=False)


def flow(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    return scalar(value)


def wrapped_list(items: list[str], indent: int, width: int = 118) -> str:
    """A flow sequence broken over lines of at most `width` characters."""
    if not items:
        return "[]"
    lines, line = [], "["
    pad = " " * indent
    for index, item in enumerate(items):
        piece = scalar(item) + ("," if index < len(items) - 1 else "]")
        if len(line) + len(piece) + 1 > width - indent and line != "[":
            lines.append(line)
            line = " " + piece
        else:
            line += ("" if line == "[" else " ") + piece
    lines.append(line)
    return ("\n" + pad).join(lines)


def block(value, indent: int) -> str:
    """Block style for mappings; lists of scalars and small mappings in flow style."""
    pad = " " * indent
    out = []
    for key, item in value.items():
        if isinstance(item, dict) and item and any(isinstance(v, (dict, list)) for v in item.values()):
            out.append(f"{pad}{key}:\n{block(item, indent + 2)}")
        elif isinstance(item, list) and item and isinstance(item[0], dict):
            out.append(f"{pad}{key}:")
            for element in item:
                out.append(f"{pad}  - {flow(element)}")
        else:
            out.append(f"{pad}{key}: {flow(item)}")
    return "\n".join(out)


USER_KEYS = ["upn", "display_name", "given_name", "surname", "mail", "user_type", "job_title", "department",
             "company_name", "employee_id", "mobile_phone", "business_phones", "account_enabled", "deleted", "created",
             "last_sign_in", "last_non_interactive_sign_in", "mfa_registered", "mfa_methods", "idc"]


def user_line(person: dict, anchors_done: set) -> str:
    fields = []
    office = person.get("_office")
    if office:  # the office address; a company_name of the person's own overrides the merged one
        fields.append(f"<<: *{office}" if office in anchors_done else f"<<: &{office} {flow(OFFICES[office])}")
        anchors_done.add(office)
    for key in USER_KEYS:
        if key in person and person[key] is not None:
            fields.append(f"{key}: {flow(person[key])}")
    return "{" + ", ".join(fields) + "}"


def render(doc: dict, people: People) -> str:
    out: list[str] = []
    w = out.append
    w("# Northwind Analytics: the sandbox's demo organisation (Entra ID tenant + AWS organisation).")
    w("# GENERATED by `idbridge dev make-demo` (lib/idbridge/sandbox/demo_scenario.py): edit the generator, then")
    w("# run it; do not edit this file by hand.")
    w("# Format: docs/scenarios.md. Planted faults are listed at the end under `faults:` and marked FAULT below.")
    w(f"scenario: {scalar(doc['scenario'])}")
    w("description: >-")
    for line in DESCRIPTION_LINES:
        w("  " + line)
    w("")
    w("tenant:")
    w(block(doc["tenant"], 2))
    w("")
    w("entra:")
    w("  # One flow mapping per person. `<<: *lon|ber|lis` merges the office address (anchored at first use).")
    w("  # People who carry a planted fault follow the regular staff, each after a FAULT comment.")
    w("  users:")
    anchors: set = set()
    for person in people.rows:
        if "_comment" in person:
            continue
        w("    - " + user_line(person, anchors))
    for person in people.rows:
        if "_comment" not in person:
            continue
        w(f"    # FAULT: {person['_comment']}")
        line = user_line(person, anchors)
        w("    - " + line)
    w("")
    w("  groups:")
    for group in doc["entra"]["groups"]:
        head = {k: v for k, v in group.items() if k != "members"}
        if group["display_name"] in ("AWS-Data-ReadOnly",):
            w("    # FAULT: Data-Contractors is nested here; its members never reach Identity Center")
        if group["display_name"] == "AWS-Incident-Responders":
            w("    # FAULT: deleted in Identity Center by a clean-up script 12 days ago and recreated by SCIM")
        if group["display_name"] == "AWS-FinOps-Viewers":
            w("    # FAULT: created and assigned to the app after the last cycle: not in Identity Center yet")
        if group["display_name"] == "AWS-Data-Engineers":
            w(f"    # FAULT: {PIM_NESTED} (PIM-managed) is nested here; its activations never reach Identity Center")
        if group["display_name"] == PIM_JIT:
            w("    # PIM-managed (see pim_groups): members are the activations in force and one permanent member")
        if group["display_name"] == "AWS-Network-Admins":
            w("    # FAULT: renamed from AWS-NetOps in Entra; Identity Center still has the old name")
        w(f"    - display_name: {scalar(head.pop('display_name'))}")
        for key, value in head.items():
            w(f"      {key}: {flow(value)}")
        w(f"      members: {wrapped_list(group['members'], 8)}")
    w("")
    app = doc["entra"]["aws_app"]
    w("  aws_app:")
    w(f"    display_name: {scalar(app['display_name'])}")
    w(f"    app_id: {app['app_id']}")
    w(f"    sso_mode: {app['sso_mode']}")
    w("    # identifier_uris left out: derived from the instance (the issuer URL), which is right.")
    w(f"    # FAULT: only the primary region's ACS URL; {EXTRA_REGION} (added 62 days ago) is missing.")
    w(f"    reply_urls: {flow(app['reply_urls'])}")
    w("    # FAULT: the sign-on URL is the pilot instance's access portal, not this store's sign-in URL.")
    w(f"    login_url: {scalar(app['login_url'])}")
    w("    # FAULT: the gallery template's wildcard was copied into the reply URLs and never removed.")
    w("    keep_wildcard_reply_url: true")
    w("    signing_certificates:")
    w("      # FAULT: the active certificate expires in 20 days; the new one is neither active nor uploaded to AWS.")
    for cert in app["signing_certificates"]:
        w(f"      - {flow(cert)}")
    w("    claims:")
    w(f"      name_id_format: {scalar(app['claims']['name_id_format'])}")
    w(f"      name_id_source: {scalar(app['claims']['name_id_source'])}")
    w("      # FAULT: no claim condition for guests (members -> UPN, guests -> mail).")
    w("      guest_name_id_source: null")
    w("      # ABAC: the company name as the session tag Company (see DataEngineer's inline policy).")
    w(f"      access_control: {flow(app['claims']['access_control'])}")
    w("    assignments:")
    w(f"      groups: {wrapped_list(app['assignments']['groups'], 8)}")
    w("      # The CTO and Priya Raman (since the pilot) are assigned directly; the three others are planted SCIM")
    w("      # failures. Priya comes before adm-priya.raman, whose mail is hers: SCIM created her first.")
    w(f"      users: {wrapped_list(app['assignments']['users'], 8)}")
    w("    provisioning:")
    prov = dict(app["provisioning"])
    w(f"      status: {prov.pop('status')}")
    w(f"      scope: {prov.pop('scope')}")
    w(f"      token_valid: {scalar(prov.pop('token_valid'))}")
    w("      # FAULT: the SCIM token expires in about 25 days.")
    w(f"      token_created: {prov.pop('token_created')}")
    w("      # FAULT: the last successful cycle is older than two cycles.")
    w(f"      last_cycle: {prov.pop('last_cycle')}")
    for key, value in prov.items():
        if key == "extra_mappings":
            w("      # Someone mapped the mobile number as a second phone: anyone with both phones is refused.")
            w("      extra_mappings:")
            for mapping in value:
                w(f"        - {flow(mapping)}")
        else:
            w(f"      {key}: {flow(value)}")
    w("")
    render_conditional_access(w, doc["entra"]["conditional_access"])
    w("")
    w("  # Sign-ins to the AWS app over the last 30 days, newest first. Each success is matched in aws.sign_ins")
    w("  # by a UserAuthentication 6 seconds later from the same IP.")
    render_rows(w, "sign_ins", doc["entra"]["sign_ins"])
    w("")
    w("  # PIM for Groups (needs the tenant's P2 licence). Graph serves ended activations only as their requests.")
    w("  pim_groups:")
    for pim in doc["entra"]["pim_groups"]:
        w(f"    - group: {scalar(pim['group'])}")
        for key in ("eligible", "active"):
            if pim.get(key):
                w(f"      {key}:")
                for entry in pim[key]:
                    w(f"        - {flow(entry)}")
    w("")
    aws = doc["aws"]
    w("aws:")
    w(f"  management_account: {scalar(aws['management_account'])}")
    render_scps(w, aws)
    w("  identity_center:")
    ic = aws["identity_center"]
    for key in ("region", "extra_regions", "instance_name", "identity_source"):
        w(f"    {key}: {flow(ic[key])}")
    w("    # ABAC enabled, no attribute of Identity Center's own: the keys come as claims from Entra.")
    w(f"    access_control_attributes: {flow(ic['access_control_attributes'])}")
    w("    # FAULT: created by hand in the Identity Center directory before the switch to Entra.")
    render_rows(w, "users", ic["users"], indent="    ")
    render_rows(w, "groups", ic["groups"], indent="    ")
    w("")
    render_rows(w, "accounts", aws["accounts"])
    w("")
    w("  permission_sets:")
    for ps in aws["permission_sets"]:
        comment = {"AdministratorAccess": "FAULT (by nature): admin-equivalent",
                   "DataEngineer": "FAULT: 12-hour sessions; edited but not re-provisioned to data-staging; "
                                   "two faulty ABAC statements",
                   "DeveloperSandbox": "FAULT: PassRole / CreateRole on *, no boundary",
                   "SupportUser": "FAULT: assigned nowhere"}.get(ps["name"])
        if comment:
            w(f"    # {comment}")
        w(f"    - name: {scalar(ps['name'])}")
        for key, value in ps.items():
            if key == "name":
                continue
            if key == "inline_policy":
                w("      inline_policy:")
                w("        Version: " + scalar(value["Version"]))
                w("        Statement:")
                for statement in value["Statement"]:
                    if "_comment" in statement:
                        w(f"          # {statement['_comment']}")
                    w(f"          - {flow(strip_internal(statement))}")
            else:
                w(f"      {key}: {flow(value)}")
    w("")
    w("  account_assignments:")
    for assignment in aws["account_assignments"]:
        if "user" in assignment:
            w("    # FAULT: break-fix assignment to a user, never removed")
        if assignment.get("group") == "AWS-Incident-Responders":
            w("    # FAULT: points at the group id from before it was recreated (orphaned)")
        if "idc_group" in assignment:
            w("    # FAULT: group created by hand in Identity Center")
        w(f"    - {flow(assignment)}")
    w("")
    w("  # Access-portal sign-ins through Entra (UserAuthentication / ExternalIdPDirectoryLogin), newest first.")
    render_rows(w, "sign_ins", aws["sign_ins"])
    w("")
    render_rows(w, "cloudtrail", aws["cloudtrail"])
    w("")
    w("# What the consultant records for this engagement (written into the sandbox's parameters file).")
    w("engagement:")
    w(f"  sod_conflicts: {flow(doc['engagement']['sod_conflicts'])}")
    render_checkpoint_records(w, doc["engagement"])
    w("")
    w("# Each planted fault: the check that should report it and its subject (see docs/scenarios.md).")
    w("faults:")
    for fault in doc["faults"]:
        w(f"  - {flow(fault)}")
    return "\n".join(out) + "\n"


def strip_internal(value):
    if isinstance(value, dict):
        return {k: strip_internal(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [strip_internal(v) for v in value]
    return value


def expected_data(doc: dict) -> dict:
    """What yaml.safe_load must give back for the rendered text (office fields merged into users)."""
    data = strip_internal(doc)
    for person, raw in zip(data["entra"]["users"], doc["entra"]["users"]):
        office = raw.get("_office")
        if office:
            merged = dict(OFFICES[office])
            merged.update(person)
            person.clear()
            person.update(merged)
    return data


DESCRIPTION_LINES = [
    "A 300-person analytics company in London, Berlin and Lisbon. Its AWS organisation (13 accounts) is reached",
    "through AWS IAM Identity Center with Entra ID as SAML IdP and SCIM provisioning. The bridge works for nearly",
    "everyone; an audit finds one of each kind of fault the checks look for (see faults at the end).",
]


def render_text() -> str:
    """The text of scenarios/demo.yaml (`idbridge dev make-demo` writes it; the tests compare it)."""
    doc, people, _, _ = build()
    text = render(doc, people)
    if yaml.safe_load(text) != expected_data(doc):  # the hand-rolled emitter must say exactly what was built
        raise RuntimeError("demo_scenario: rendered YAML does not read back as the data that was built")
    return text
