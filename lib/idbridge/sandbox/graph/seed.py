"""Seed the Graph store from a scenario: the tenant, users, groups, gallery templates, the AWS IAM Identity Center
application and everything hanging off it, Conditional Access, sign-ins and MFA registration.

Ids come from the scenario or from stable_id(tenant, kind, name), so two runs of one scenario serve the same ids.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from idbridge.sandbox import derived
from idbridge.sandbox.graph import shapes
from idbridge.sandbox.graph import sync_shapes as sync
from idbridge.sandbox.graph.certs import make_signing_key
from idbridge.sandbox.graph.pim import seed_pim
from idbridge.sandbox.graph.store import GraphStore, Json
from idbridge.sandbox.scenario import AwsApp, EntraGroup, EntraUser, Scenario, stable_id
from idbridge.sandbox.timeexpr import graph_time, resolve_time

NEVER = "0001-01-01T00:00:00Z"  # Graph's DateTimeOffset for "no such sign-in"
# servicePlanIds of the Entra ID premium plans, as /organization lists them in assignedPlans.
_PREMIUM_PLANS = {"P1": [("AAD_PREMIUM", "41781fb2-bc02-4b7c-bd55-b576c07bb09d")],
                  "P2": [("AAD_PREMIUM", "41781fb2-bc02-4b7c-bd55-b576c07bb09d"),
                         ("AAD_PREMIUM_P2", "eec0eb4f-6444-4f95-aba0-50c24d67f998")]}
# A licence SKU for members, so that assignedLicenses/any(...) filters have something to match.
_MEMBER_SKUS = {"P2": "06ebc4ee-1bb5-47dd-8120-11324bc54e06", "P1": "078d2b04-f1bd-4111-bbd4-b4b1b354cef4"}
_PASSWORDLESS = {"fido2", "windowsHelloForBusiness", "microsoftAuthenticatorPasswordless", "passKeyDeviceBound"}
# methodsRegistered -> userDefaultAuthenticationMethod (userPreferredMethodForSecondaryAuthentication and
# systemPreferredAuthenticationMethods: push, oath, voiceMobile, voiceAlternateMobile, voiceOffice, sms, none).
_DEFAULT_MFA = {"microsoftAuthenticatorPush": "push", "softwareOneTimePasscode": "oath",
                "hardwareOneTimePasscode": "oath", "mobilePhone": "sms", "officePhone": "voiceOffice",
                "alternateMobilePhone": "voiceAlternateMobile", "fido2": "none", "email": "none"}
# methodsRegistered -> beta's defaultMfaMethodType (none, mobilePhone, alternateMobilePhone, officePhone,
# microsoftAuthenticatorPush, softwareOneTimePasscode), the enum of beta's defaultMfaMethod.
_DEFAULT_MFA_BETA = {m: m for m in ("microsoftAuthenticatorPush", "softwareOneTimePasscode", "mobilePhone",
                                    "officePhone", "alternateMobilePhone")}
_NAME_ID_FORMATS = {"emailaddress": "emailAddress", "unspecified": "unspecified", "persistent": "persistent",
                    "windowsdomainqualifiedname": "windowsDomainQualifiedName", "default": "default"}


class _Seeder:
    def __init__(self, scenario: Scenario, now: datetime):
        self.s = scenario
        self.now = now
        self.tid = scenario.tenant.id
        self.user_ids = {u.upn.lower(): self.user_id(u) for u in scenario.entra.users}
        self.group_ids = {g.display_name: self.group_id(g) for g in scenario.entra.groups}
        app = scenario.entra.aws_app
        self.aws_app_id = (app.app_id if app and app.app_id else None) or stable_id(self.tid, "appId", "aws-idc")
        self.aws_app_object_id = stable_id(self.tid, "application", "aws-idc")
        self.aws_sp_id = stable_id(self.tid, "servicePrincipal", "aws-idc")

    def t(self, expr: str) -> datetime:
        return resolve_time(expr, self.now)

    def user_id(self, user: EntraUser) -> str:
        return user.id or stable_id(self.tid, "user", user.upn.lower())

    def group_id(self, group: EntraGroup) -> str:
        return group.id or stable_id(self.tid, "group", group.display_name)

    # ------------------------------------------------------------------ tenant

    def organization(self) -> Json:
        tenant = self.s.tenant
        domains = [{"name": tenant.default_domain, "isDefault": not tenant.domains, "isInitial": True,
                    "type": "Managed", "capabilities": "Email, OfficeCommunicationsOnline"}]
        domains += [{"name": d, "isDefault": i == 0, "isInitial": False, "type": "Managed",
                     "capabilities": "Email"} for i, d in enumerate(tenant.domains)]
        plans = [{"assignedDateTime": graph_time(self.t("now-900d")), "capabilityStatus": "Enabled",
                  "service": "AADPremiumService", "servicePlanId": plan_id}
                 for _name, plan_id in _PREMIUM_PLANS.get(tenant.licence, [])]
        return {"id": self.tid, "displayName": tenant.display_name, "tenantType": "AAD",
                "createdDateTime": graph_time(self.t("now-900d")), "countryLetterCode": "US",
                "preferredLanguage": "en", "verifiedDomains": domains, "assignedPlans": plans,
                "provisionedPlans": [], "technicalNotificationMails": [f"admin@{tenant.default_domain}"],
                "securityComplianceNotificationMails": [], "onPremisesSyncEnabled": None,
                "businessPhones": [], "city": None, "country": None, "street": None, "postalCode": None,
                "state": None, "deletedDateTime": None, "marketingNotificationEmails": [],
                "privacyProfile": None, "securityComplianceNotificationPhones": []}

    # ------------------------------------------------------------------ users

    def user(self, u: EntraUser) -> Json:
        local = u.upn.split("@", 1)[0]
        guest = u.user_type == "Guest"
        created = self.t(u.created)
        licence = self.s.tenant.licence
        return {
            "id": self.user_id(u), "userPrincipalName": u.upn, "displayName": u.display_name,
            "givenName": u.given_name, "surname": u.surname, "mail": u.mail, "otherMails": list(u.other_mails),
            "userType": u.user_type, "accountEnabled": u.account_enabled, "jobTitle": u.job_title,
            "department": u.department, "companyName": u.company_name, "employeeId": u.employee_id,
            "officeLocation": u.office_location, "mobilePhone": u.mobile_phone,
            "businessPhones": list(u.business_phones), "faxNumber": None, "streetAddress": u.street_address,
            "city": u.city, "state": None, "postalCode": None, "country": u.country,
            "usageLocation": u.usage_location, "preferredLanguage": u.preferred_language,
            "mailNickname": local.split("#EXT#")[0], "createdDateTime": graph_time(created),
            "creationType": "Invitation" if guest else None,
            "externalUserState": "Accepted" if guest else None,
            "externalUserStateChangeDateTime": graph_time(created + timedelta(hours=2)) if guest else None,
            "proxyAddresses": [f"SMTP:{u.mail}"] if u.mail else [],
            "identities": [{"signInType": "userPrincipalName", "issuer": self.s.tenant.default_domain,
                            "issuerAssignedId": u.upn}],
            "assignedLicenses": [] if guest or licence not in _MEMBER_SKUS
            else [{"disabledPlans": [], "skuId": _MEMBER_SKUS[licence]}],
            "onPremisesSyncEnabled": None, "onPremisesImmutableId": None, "onPremisesSamAccountName": None,
            "employeeType": None, "employeeHireDate": None, "ageGroup": None, "deletedDateTime": None,
            "showInAddressList": None, "passwordPolicies": None,
            "signInActivity": self.sign_in_activity(u),
        }

    def sign_in_activity(self, u: EntraUser) -> Json:
        """Interactive = the scenario's last_sign_in, else its newest sign-in event; successful = newest success."""
        events = self.s.entra_sign_ins_of(u.upn)
        interactive = [self.t(e.at) for e in events]
        successful = [self.t(e.at) for e in events if e.status == "success"]
        if u.last_sign_in:
            interactive.append(self.t(u.last_sign_in))
            successful.append(self.t(u.last_sign_in))
        last = max(interactive, default=None)
        last_ok = max(successful, default=None)
        non_interactive = self.t(u.last_non_interactive_sign_in) if u.last_non_interactive_sign_in else None
        uid = self.user_id(u)
        # No sign-in of a kind: Graph writes 0001-01-01T00:00:00Z and an empty request id, not null (user-list,
        # v1.0 example 11; tests/contract/fixtures/graph/users_sign_in_activity.json).
        return {
            "lastSignInDateTime": graph_time(last) if last else NEVER,
            "lastSignInRequestId": stable_id(uid, "signin", graph_time(last)) if last else "",
            "lastNonInteractiveSignInDateTime": graph_time(non_interactive) if non_interactive else NEVER,
            "lastNonInteractiveSignInRequestId":
                stable_id(uid, "nonint", graph_time(non_interactive)) if non_interactive else "",
            "lastSuccessfulSignInDateTime": graph_time(last_ok) if last_ok else NEVER,
            "lastSuccessfulSignInRequestId": stable_id(uid, "success", graph_time(last_ok)) if last_ok else "",
        }

    # ------------------------------------------------------------------ groups

    def group(self, g: EntraGroup) -> Json:
        gid = self.group_id(g)
        nick = g.mail_nickname or re.sub(r"[^A-Za-z0-9._-]", "", g.display_name.replace(" ", "-")) or "group"
        created = graph_time(self.t(g.created))
        return {
            "id": gid, "displayName": g.display_name, "description": g.description, "mailNickname": nick,
            "mail": f"{nick}@{self.s.tenant.default_domain}" if g.mail_enabled else None,
            "mailEnabled": g.mail_enabled, "securityEnabled": g.security_enabled,
            "groupTypes": ["DynamicMembership"] if g.dynamic_rule else [],
            "membershipRule": g.dynamic_rule, "membershipRuleProcessingState": "On" if g.dynamic_rule else None,
            "createdDateTime": created, "renewedDateTime": created, "deletedDateTime": None,
            "securityIdentifier": _sid(gid), "visibility": None, "classification": None,
            "expirationDateTime": None, "isAssignableToRole": None, "onPremisesSyncEnabled": None,
            "preferredDataLocation": None, "proxyAddresses": [], "resourceBehaviorOptions": [],
            "resourceProvisioningOptions": [], "theme": None,
        }

    # ------------------------------------------------------------------ AWS application

    def aws_app(self, store: GraphStore, app: AwsApp) -> None:
        s = self.s
        identifier_uris = app.identifier_uris if app.identifier_uris is not None else [derived.issuer_url(s)]
        reply_urls = list(app.reply_urls) if app.reply_urls is not None \
            else [derived.acs_url(s, region) for region in derived.all_regions(s)]
        if app.keep_wildcard_reply_url and derived.WILDCARD_REPLY_URL not in reply_urls:
            reply_urls.append(derived.WILDCARD_REPLY_URL)
        starts = [self.t(c.start) for c in app.signing_certificates]
        created = min([self.t("now-400d"), *starts])
        application = shapes.application(
            self.aws_app_object_id, self.aws_app_id, app.display_name, created,
            template_id=derived.AWS_GALLERY_TEMPLATE_ID, publisher_domain=s.tenant.default_domain,
            identifier_uris=identifier_uris, redirect_uris=reply_urls, app_roles=shapes.aws_app_roles())
        prov = app.provisioning
        notify = [prov.notification_email] if prov and prov.notification_email else [f"admin@{s.tenant.default_domain}"]
        sp = shapes.service_principal(
            self.aws_sp_id, application, self.tid, sso_mode=app.sso_mode,
            login_url=app.login_url or derived.portal_login_url(s), notification_emails=notify,
            role_assignment_required=app.assignment_required)
        store.applications[application["id"]] = application
        store.service_principals[sp["id"]] = sp
        store.aws_sp_id = sp["id"]

        keys = store.signing_keys.setdefault(sp["id"], [])
        for index, cert in enumerate(app.signing_certificates):
            key = make_signing_key(index, f"{self.tid}:{sp['id']}:{index}",
                                   stable_id(self.tid, "signing-key", str(index)), cert.display_name,
                                   self.t(cert.start), self.t(cert.end))
            keys.append(key)
            sp["keyCredentials"] += shapes.key_credentials(key, cert.display_name,
                                                           stable_id(self.tid, "verify-key", str(index)),
                                                           custom=cert.custom)
            sp["passwordCredentials"].append(shapes.password_credential(key, cert.display_name, custom=cert.custom))
            if cert.active:
                sp["preferredTokenSigningKeyThumbprint"] = key.thumbprint

        store.claims_policies[sp["id"]] = self.claims_policy(app)
        self.assignments(store, app, sp, created)
        if prov is not None and prov.status != "NotConfigured":
            self.synchronization(store, app, sp)

    def claims_policy(self, app: AwsApp) -> Json:
        """Graph beta customClaimsPolicy: the NameID claim (with the guest condition) and the default claims."""
        claims = app.claims

        def attribute(source: str) -> Json:
            return {"@odata.type": "#microsoft.graph.sourcedAttribute", "source": "user",
                    "id": source.removeprefix("user."), "isExtensionAttribute": False}

        if claims.guest_name_id_source:
            configurations = [
                {"condition": {"@odata.type": "#microsoft.graph.customClaimCondition", "userType": "members",
                               "memberOf": []},
                 "attribute": attribute(claims.name_id_source), "transformations": []},
                {"condition": {"@odata.type": "#microsoft.graph.customClaimCondition", "userType": "externalGuests",
                               "memberOf": []},
                 "attribute": attribute(claims.guest_name_id_source), "transformations": []},
            ]
        else:
            configurations = [{"condition": None, "attribute": attribute(claims.name_id_source),
                               "transformations": []}]
        fmt = claims.name_id_format.rsplit(":", 1)[-1]
        name_id = {"@odata.type": "#microsoft.graph.samlNameIdClaim", "configurations": configurations,
                   "nameIdFormat": _NAME_ID_FORMATS.get(fmt.lower(), fmt),
                   "serviceProviderNameQualifier": None}
        namespace = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims"
        standard = [("givenname", "givenname"), ("surname", "surname"), ("emailaddress", "mail"),
                    ("name", "userprincipalname")]
        custom = [{"@odata.type": "#microsoft.graph.customClaim", "name": name, "namespace": namespace,
                   "tokenFormat": ["saml"], "samlAttributeNameFormat": None,
                   "configurations": [{"condition": None, "attribute": attribute(source), "transformations": []}]}
                  for name, source in standard]
        custom += [{"@odata.type": "#microsoft.graph.customClaim", "name": f"AccessControl:{key}",
                    "namespace": "https://aws.amazon.com/SAML/Attributes", "tokenFormat": ["saml"],
                    "samlAttributeNameFormat": None,
                    "configurations": [{"condition": None, "attribute": attribute(source), "transformations": []}]}
                   for key, source in claims.access_control.items()]
        return {"id": stable_id(self.tid, "claimsPolicy", self.aws_sp_id), "includeBasicClaimSet": True,
                "includeApplicationIdInIssuer": False, "audienceOverride": None, "groupFilter": None,
                "claims": [name_id, *custom]}

    def assignments(self, store: GraphStore, app: AwsApp, sp: Json, app_created: datetime) -> None:
        principals = [(ref, "User", store.users.get(self.user_ids[ref.lower()])) for ref in app.assignments.users]
        principals += [(ref, "Group", store.groups.get(self.group_ids[ref])) for ref in app.assignments.groups]
        for ref, kind, principal in principals:
            if principal is None:  # a deleted user: Entra drops its assignments with it
                continue
            created = max(app_created, resolve_time(principal["createdDateTime"], self.now))
            aid = shapes.assignment_id(self.tid, sp["id"], principal["id"])
            store.app_role_assignments[aid] = shapes.app_role_assignment(
                aid, principal, kind, sp, shapes.USER_ROLE_ID, created + timedelta(days=1))

    def synchronization(self, store: GraphStore, app: AwsApp, sp: Json) -> None:
        prov = app.provisioning
        s = self.s
        # Graph's gallery-app job ids: <templateId>.<tenant id without dashes>.<GUID with dashes>, e.g.
        # "aws.74beb1753b704b63b8d56f0b76082b16.10a7a801-7101-4c69-ae00-ce9f75f8460a" (provisioningobjectsummary-list).
        job_guid = stable_id(self.tid, "sync-job", sp["id"])
        job_id = f"{derived.AWS_SYNC_TEMPLATE_ID}.{self.tid.replace('-', '')}.{job_guid}"
        in_scope = len(app.assignments.users) + len(app.assignments.groups) if prov.scope == "assigned" \
            else len(s.entra.users) + len(s.entra.groups)
        status = sync.empty_status(prov.status)
        status["countSuccessiveCompleteFailures"] = prov.successive_failures
        token_created = self.t(prov.token_created)
        failing = prov.status == "Quarantine" or prov.successive_failures > 0
        if prov.last_cycle:
            ended = self.t(prov.last_cycle)
            began = ended - timedelta(minutes=2)
            activity = stable_id(job_id, "cycle", graph_time(ended))
            if failing:
                code, message = sync.QUARANTINE_ERRORS.get(prov.quarantine_reason or "", (
                    "SystemForCrossDomainIdentityManagementServiceIncompatible", "The last cycle failed."))
                error = {"code": code, "message": message, "tenantActionable": True}
                status["lastExecution"] = sync.execution(activity, began, ended, entitled=in_scope,
                                                         state="Failed", error=error)
                if prov.steady_state_reached:
                    ok_end = ended - sync.CYCLE * max(1, prov.successive_failures)
                    status["lastSuccessfulExecution"] = sync.execution(
                        stable_id(job_id, "cycle", graph_time(ok_end)), ok_end - timedelta(minutes=2), ok_end,
                        entitled=in_scope)
            else:
                status["lastExecution"] = sync.execution(activity, began, ended, entitled=in_scope)
                if prov.steady_state_reached or prov.status != "NotRun":
                    status["lastSuccessfulExecution"] = status["lastExecution"]
            last_ok = status["lastSuccessfulExecution"]
            if last_ok:
                status["lastSuccessfulExecutionWithExports"] = {**last_ok, "countExported": in_scope,
                                                                "countExports": in_scope}
                if prov.steady_state_reached:
                    status["steadyStateLastAchievedTime"] = last_ok["timeEnded"]
            if prov.status == "Quarantine":
                status["quarantine"] = {
                    "currentBegan": graph_time(ended), "nextAttempt": graph_time(ended + timedelta(days=1)),
                    "reason": prov.quarantine_reason, "seriesBegan":
                        graph_time(ended - sync.CYCLE * max(0, prov.successive_failures - 1)),
                    "seriesCount": max(1, prov.successive_failures),
                    "error": status["lastExecution"]["error"]}
        if prov.steady_state_reached:
            status["steadyStateFirstAchievedTime"] = graph_time(token_created + timedelta(hours=1))
        users_in_scope = len(app.assignments.users) if prov.scope == "assigned" else len(s.entra.users)
        groups_in_scope = len(app.assignments.groups) if prov.scope == "assigned" else len(s.entra.groups)
        status["synchronizedEntryCountByType"] = [{"key": "user to User", "value": users_in_scope},
                                                  {"key": "group to Group", "value": groups_in_scope}]
        store.sync_jobs.setdefault(sp["id"], {})[job_id] = sync.job(
            job_id, status, "Paused" if prov.status == "Paused" else "Active")
        store.sync_schemas[job_id] = sync.schema(job_id, prov.external_id_source,
                                                 [(m.source, m.target) for m in prov.extra_mappings],
                                                 removed=prov.removed_mappings, flow_types=prov.flow_types)
        token = derived.scim_token(s) if prov.token_valid else "sbx-scim-revoked-" + stable_id(self.tid, "old")[:18]
        store.sync_secrets[sp["id"]] = sync.secrets(derived.scim_endpoint(s), token, prov.notification_email,
                                                    prov.scope == "all",
                                                    deletion_threshold=prov.accidental_deletion_threshold,
                                                    skip_out_of_scope=prov.skip_out_of_scope_deletions)

    # ------------------------------------------------------------------ audit and policy

    def sign_ins(self, store: GraphStore) -> None:
        users = {u["userPrincipalName"].lower(): u for u in [*store.users.values(), *store.deleted_users.values()]}
        sp = store.service_principals.get(self.aws_sp_id)
        app_name = sp["displayName"] if sp else "AWS IAM Identity Center"
        policies = [p for p in store.ca_policies.values()
                    if p["state"] != "disabled" and ({"All", self.aws_app_id}
                                                     & set(p["conditions"]["applications"]["includeApplications"]))]
        for index, event in enumerate(sorted(self.s.entra.sign_ins, key=lambda e: self.t(e.at))):
            user = users[event.user.lower()]
            at = self.t(event.at)
            ok = event.status == "success"
            code = event.error_code or (0 if ok else 50126)
            reason = "Other." if ok else (event.failure_reason or
                                          "Error validating credentials due to invalid username or password.")
            store.sign_ins.append({
                "id": stable_id(self.tid, "signIn", str(index), event.user, event.at),
                "createdDateTime": graph_time(at), "userDisplayName": user["displayName"],
                "userPrincipalName": user["userPrincipalName"], "userId": user["id"],
                "appId": self.aws_app_id, "appDisplayName": app_name, "resourceDisplayName": app_name,
                "resourceId": self.aws_sp_id, "ipAddress": event.ip, "clientAppUsed": event.client_app,
                "correlationId": stable_id(self.tid, "correlation", str(index)),
                "conditionalAccessStatus": event.conditional_access, "isInteractive": True,
                "authenticationRequirement": "multiFactorAuthentication" if event.mfa
                else "singleFactorAuthentication",
                "riskDetail": "none", "riskLevelAggregated": "none", "riskLevelDuringSignIn": "none",
                "riskState": "none", "riskEventTypes": [], "riskEventTypes_v2": [],
                "status": {"errorCode": code, "failureReason": reason,
                           "additionalDetails": "MFA requirement satisfied by claim in the token"
                           if ok and event.mfa else None},
                "deviceDetail": {"deviceId": "", "displayName": "", "operatingSystem": "Windows 10",
                                 "browser": "Edge 120.0.0", "isCompliant": False, "isManaged": False,
                                 "trustType": ""},
                "location": {"city": "Amsterdam", "state": "Noord-Holland", "countryOrRegion": "NL",
                             "geoCoordinates": {"altitude": None, "latitude": 52.37, "longitude": 4.89}},
                "appliedConditionalAccessPolicies": [
                    {"id": p["id"], "displayName": p["displayName"],
                     "enforcedGrantControls": p["grantControls"]["builtInControls"] if p["grantControls"] else [],
                     "enforcedSessionControls": [],
                     "result": "success" if event.conditional_access == "success" else
                     "failure" if event.conditional_access == "failure" else "notApplied"}
                    for p in policies],
            })

    def registration_details(self, store: GraphStore) -> None:
        by_id = {self.user_id(u): u for u in self.s.entra.users}
        for uid, user in store.users.items():
            u = by_id[uid]
            methods = list(u.mfa_methods) if u.mfa_registered else []
            strong = [m for m in methods if m not in ("email",)]
            store.registration_details[uid] = {
                "id": uid, "userPrincipalName": user["userPrincipalName"], "userDisplayName": user["displayName"],
                "userType": u.user_type.lower(), "isAdmin": False,
                "isMfaCapable": bool(strong), "isMfaRegistered": bool(u.mfa_registered and strong),
                "isPasswordlessCapable": bool(_PASSWORDLESS & set(methods)),
                "isSsprCapable": bool(methods), "isSsprEnabled": True, "isSsprRegistered": bool(methods),
                "isSystemPreferredAuthenticationMethodEnabled": True,
                "lastUpdatedDateTime": graph_time(self.t("now-1d")), "methodsRegistered": methods,
                "defaultMfaMethod": _DEFAULT_MFA_BETA.get(strong[0], "none") if strong else "none",  # beta only
                "systemPreferredAuthenticationMethods": [_DEFAULT_MFA.get(strong[0], "none")] if strong else [],
                # nothing registered: "" (the v1.0 list example's guest), though the enum also lists `none`
                "userPreferredMethodForSecondaryAuthentication": _DEFAULT_MFA.get(strong[0], "none")
                if strong else "",
            }

    def ca_policies(self, store: GraphStore) -> None:
        special = {"All", "GuestsOrExternalUsers", "None"}
        for policy in self.s.entra.conditional_access:
            def users(refs: list[str]) -> list[str]:
                return [r if r in special else self.user_ids[r.lower()] for r in refs]

            pid = stable_id(self.tid, "caPolicy", policy.display_name)
            strength = policy.authentication_strength
            block = "block" in policy.grant_controls
            store.ca_policies[pid] = {
                "id": pid, "displayName": policy.display_name, "state": policy.state, "templateId": None,
                "createdDateTime": graph_time(self.t("now-200d")), "modifiedDateTime": None,
                "conditions": {
                    "applications": {
                        "includeApplications": [self.aws_app_id if a == "aws" else a
                                                for a in policy.include_applications],
                        "excludeApplications": [], "includeUserActions": [],
                        "includeAuthenticationContextClassReferences": [], "applicationFilter": None},
                    "users": {"includeUsers": users(policy.include_users), "excludeUsers": users(policy.exclude_users),
                              "includeGroups": [self.group_ids[g] for g in policy.include_groups],
                              "excludeGroups": [self.group_ids[g] for g in policy.exclude_groups],
                              "includeRoles": list(policy.include_roles), "excludeRoles": list(policy.exclude_roles),
                              "includeGuestsOrExternalUsers": None,
                              "excludeGuestsOrExternalUsers": None},
                    "clientAppTypes": ["all"], "platforms": None, "locations": None, "devices": None,
                    "signInRiskLevels": [], "userRiskLevels": [], "servicePrincipalRiskLevels": [],
                    "clientApplications": None, "insiderRiskLevels": None, "authenticationFlows": None},
                "grantControls": None if not policy.grant_controls and not policy.authentication_strength else {
                    "operator": policy.operator,
                    "builtInControls": ["block"] if block else list(policy.grant_controls),
                    "customAuthenticationFactors": [], "termsOfUse": [],
                    "authenticationStrength": shapes.authentication_strength(
                        strength, stable_id(self.tid, "authStrength", getattr(strength, "display_name", "")),
                        graph_time(self.t("now-200d")))},
                "sessionControls": None,
            }


def _sid(guid: str) -> str:
    """Entra's security identifier for a cloud group: S-1-12-1 and the GUID's bytes as four little-endian ints."""
    import uuid

    raw = uuid.UUID(guid).bytes_le
    return "S-1-12-1-" + "-".join(str(int.from_bytes(raw[i:i + 4], "little")) for i in range(0, 16, 4))


def build_store(scenario: Scenario, now: datetime) -> GraphStore:
    seeder = _Seeder(scenario, now)
    store = GraphStore(tenant=seeder.organization())
    with store.changes.pause():  # the state before any change: no delta token can predate it
        for u in scenario.entra.users:
            user = seeder.user(u)
            if u.deleted:
                user["deletedDateTime"] = graph_time(seeder.t("now-3d"))
                store.deleted_users[user["id"]] = user
            else:
                store.users[user["id"]] = user
        for g in scenario.entra.groups:
            store.groups[seeder.group_id(g)] = seeder.group(g)
        for g in scenario.entra.groups:
            members = [seeder.user_ids[m.lower()] for m in g.members]
            members = [m for m in members if m in store.users]  # deleted users leave their groups
            members += [seeder.group_ids[name] for name in g.member_groups]
            store.direct_members[seeder.group_id(g)] = list(dict.fromkeys(members))
        seed_pim(store, scenario, now, seeder.user_ids, seeder.group_ids)
        for template in shapes.gallery_templates():
            store.application_templates[template["id"]] = template
        seeder.ca_policies(store)
        if scenario.entra.aws_app is not None:
            seeder.aws_app(store, scenario.entra.aws_app)
        seeder.sign_ins(store)
        seeder.registration_details(store)
    return store
