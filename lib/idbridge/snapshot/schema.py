"""What a collection gathers: each source, the tables it writes, and their columns.

This is the contract between collectors (which write these tables) and everything downstream (access model,
checks, reports), which reads only these names. Columns hold scalars or lists of scalars; nested Graph / AWS
objects that are read as a whole are kept as JSON text in a column ending in `_json`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Source:
    name: str
    side: str  # "entra" or "aws"
    title: str
    tables: dict[str, tuple[str, ...]]


SOURCES: tuple[Source, ...] = (
    # ------------------------------------------------------------------ Entra ID (Microsoft Graph)
    Source("entra.tenant", "entra", "Tenant", {
        "entra_tenant": ("id", "displayName", "verifiedDomains"),
    }),
    Source("entra.users", "entra", "Users", {
        "entra_users": ("id", "userPrincipalName", "displayName", "givenName", "surname", "mail", "otherMails",
                        "userType", "accountEnabled", "createdDateTime", "department", "jobTitle", "companyName",
                        "employeeId", "mobilePhone", "businessPhones", "mailNickname", "externalUserState",
                        "preferredLanguage", "usageLocation", "streetAddress", "city", "country",
                        "officeLocation"),
    }),
    # signInActivity needs an Entra ID P1/P2 licence: a source of its own so users are collected without it.
    Source("entra.sign_in_activity", "entra", "Last sign-in per user", {
        "entra_sign_in_activity": ("id", "lastSignInDateTime", "lastNonInteractiveSignInDateTime",
                                   "lastSuccessfulSignInDateTime"),
    }),
    Source("entra.groups", "entra", "Groups", {
        "entra_groups": ("id", "displayName", "description", "groupTypes", "membershipRule", "securityEnabled",
                         "mailEnabled", "mailNickname", "createdDateTime", "isDynamic"),
    }),
    Source("entra.app", "entra", "AWS IAM Identity Center application", {
        "entra_service_principal": ("id", "appId", "displayName", "preferredSingleSignOnMode", "loginUrl",
                                    "replyUrls", "appRoleAssignmentRequired", "preferredTokenSigningKeyThumbprint",
                                    "notificationEmailAddresses", "applicationTemplateId", "samlSingleSignOnSettings_json",
                                    "appRoles_json"),
        "entra_application": ("id", "appId", "displayName", "identifierUris", "redirectUris"),
        "entra_app_key_credentials": ("keyId", "type", "usage", "displayName", "startDateTime", "endDateTime",
                                      "thumbprint"),
        "entra_app_claims": ("nameIdFormat", "nameIdSource", "guestNameIdSource", "claims_json"),
    }),
    Source("entra.app_assignments", "entra", "Users and groups assigned to the app", {
        "entra_app_role_assignments": ("id", "principalId", "principalType", "principalDisplayName", "appRoleId",
                                       "createdDateTime"),
    }),
    Source("entra.group_members", "entra", "Members of the assigned groups (direct and transitive)", {
        "entra_group_members": ("groupId", "memberId", "memberType", "relation"),
    }),
    Source("entra.provisioning", "entra", "Provisioning job, status and attribute mappings", {
        "entra_sync_jobs": ("id", "templateId", "statusCode", "scheduleState", "scheduleInterval",
                            "lastExecutionState", "lastExecutionEnded", "lastSuccessfulExecutionEnded",
                            "countSuccessiveCompleteFailures", "quarantineReason", "quarantineCurrentBegan",
                            "quarantineErrorCode", "quarantineErrorMessage", "steadyStateFirstAchievedTime",
                            "steadyStateLastAchievedTime", "status_json"),
        "entra_sync_mappings": ("jobId", "objectMapping", "sourceObjectName", "targetObjectName",
                                "targetAttributeName", "sourceExpression", "mappingType", "flowBehavior",
                                "matchingPriority"),
        # One row per object mapping (User, Group): whether it runs and which target actions it may take.
        "entra_sync_object_mappings": ("jobId", "objectMapping", "sourceObjectName", "targetObjectName", "enabled",
                                       "flowTypes"),
    }),
    Source("entra.provisioning_logs", "entra", "Provisioning log (window)", {
        "entra_provisioning_logs": ("id", "activityDateTime", "jobId", "cycleId", "changeId", "action",
                                    "provisioningAction", "status", "errorCode", "errorReason", "errorCategory",
                                    "sourceId", "sourceDisplayName", "sourceType", "targetId", "targetDisplayName",
                                    "targetType"),
    }),
    Source("entra.sign_ins", "entra", "Sign-ins to the AWS app (window)", {
        "entra_sign_ins": ("id", "createdDateTime", "userId", "userPrincipalName", "appId", "ipAddress",
                           "clientAppUsed", "conditionalAccessStatus", "authenticationRequirement", "errorCode",
                           "failureReason", "isInteractive"),
    }),
    Source("entra.conditional_access", "entra", "Conditional Access policies", {
        "entra_ca_policies": ("id", "displayName", "state", "includeApplications", "excludeApplications",
                              "includeUsers", "excludeUsers", "includeGroups", "excludeGroups",
                              "grantOperator", "builtInControls", "includeRoles", "excludeRoles",
                              "authenticationStrength", "authenticationStrengthRequirements"),
    }),
    Source("entra.mfa_registration", "entra", "MFA registration details", {
        "entra_mfa_registration": ("id", "userPrincipalName", "userType", "isMfaRegistered", "isMfaCapable",
                                   "methodsRegistered", "defaultMfaMethod"),
    }),
    # Privileged Identity Management for Groups: who is eligible for, and who holds, membership of the groups
    # assigned to the app and of the groups nested in them. A source of its own: it needs Entra ID P2 (or ID
    # Governance) and the two PrivilegedEligibilitySchedule / PrivilegedAssignmentSchedule read permissions.
    # kind: eligibility | assignment. A schedule is the plan (start, expiration); an instance is the membership
    # as it stands (an activation is an assignment instance with assignmentType "activated").
    Source("entra.pim_groups", "entra", "PIM for Groups: eligible and active memberships", {
        "entra_pim_schedules": ("groupId", "id", "kind", "principalId", "accessId", "memberType", "assignmentType",
                                "status", "startDateTime", "endDateTime", "expirationType", "createdDateTime"),
        "entra_pim_instances": ("groupId", "id", "kind", "principalId", "accessId", "memberType", "assignmentType",
                                "startDateTime", "endDateTime", "scheduleId"),
        # The assignment schedule requests (activations, deactivations, admin assignments) of the collection
        # window: the only record of activations that have ended, which the schedules and instances drop.
        "entra_pim_requests": ("groupId", "id", "principalId", "accessId", "action", "status", "createdDateTime",
                               "completedDateTime", "startDateTime", "expirationType", "endDateTime", "duration",
                               "targetScheduleId"),
    }),
    # ------------------------------------------------------------------ AWS
    Source("aws.instances", "aws", "Identity Center instances", {
        "idc_instances": ("instanceArn", "identityStoreId", "ownerAccountId", "name", "status", "region", "regions"),
    }),
    Source("aws.identity_store", "aws", "Identity Center users, groups and memberships", {
        "idc_users": ("userId", "userName", "displayName", "givenName", "familyName", "email", "externalIds",
                      "userStatus", "createdBy", "createdAt", "updatedAt"),
        "idc_groups": ("groupId", "displayName", "description", "externalIds", "createdBy", "createdAt"),
        "idc_group_memberships": ("groupId", "userId", "membershipId"),
    }),
    Source("aws.permission_sets", "aws", "Permission sets and their policies", {
        "idc_permission_sets": ("permissionSetArn", "name", "description", "sessionDuration", "relayState",
                                "createdDate"),
        "idc_permission_set_policies": ("permissionSetArn", "kind", "policyArn", "policyName", "policyPath",
                                        "document"),
    }),
    Source("aws.provisioning_status", "aws", "Permission sets provisioned per account", {
        "idc_permission_set_provisioning": ("permissionSetArn", "accountId", "status"),
    }),
    Source("aws.account_assignments", "aws", "Account assignments", {
        "idc_account_assignments": ("accountId", "permissionSetArn", "principalType", "principalId"),
    }),
    Source("aws.organizations", "aws", "Accounts, OUs and tags", {
        "org_accounts": ("accountId", "name", "email", "status", "ouPath", "ouId", "tags"),
    }),
    # Who administers Identity Center: the organisation's management account and the delegated administrators
    # registered for sso.amazonaws.com. A source of its own: both calls answer only in the management account or
    # a delegated administrator of Organizations, and the rest must be collected without them.
    Source("aws.delegation", "aws", "Management account and Identity Center delegated administrators", {
        "org_organization": ("organizationId", "managementAccountId", "featureSet"),
        "org_delegated_admins": ("servicePrincipal", "accountId", "name", "status", "delegationEnabledDate"),
    }),
    # The organisation's service control policies (ListPolicies SERVICE_CONTROL_POLICY, DescribePolicy,
    # ListTargetsForPolicy): whether one denies sso:CreateInstance, i.e. account instances of Identity Center.
    # One row per policy; targets are "TYPE:id:name" strings (ROOT, ORGANIZATIONAL_UNIT, ACCOUNT).
    Source("aws.scps", "aws", "Service control policies and where they are attached", {
        "org_scps": ("policyId", "name", "awsManaged", "content", "targets"),
    }),
    # Provisioning that AWS reports as failed: permission-set provisioning requests and account-assignment
    # creations with Status FAILED and their FailureReason. kind: permission_set | assignment.
    Source("aws.provisioning_failures", "aws", "Failed permission-set provisioning and assignment creations", {
        "idc_provisioning_failures": ("kind", "requestId", "permissionSetArn", "accountId", "principalType",
                                      "principalId", "failureReason", "createdDate"),
    }),
    # Attributes for access control (ABAC): a source of its own, so a role without the read (or an instance where
    # ABAC was never enabled) leaves the rest of the collection whole. idc_abac_status holds one row: configured is
    # False when AWS answers that the instance has no configuration (ABAC not enabled).
    Source("aws.abac", "aws", "Identity Center attributes for access control (ABAC)", {
        "idc_abac_status": ("instanceArn", "configured", "status", "statusReason"),
        "idc_abac_attributes": ("key", "source"),
    }),
    Source("aws.cloudtrail", "aws", "CloudTrail events (window)", {
        "cloudtrail_events": ("eventId", "eventTime", "eventName", "eventSource", "userName", "userId",
                              "sourceIPAddress", "errorCode", "errorMessage", "awsRegion", "event_json"),
    }),
)

SOURCES_BY_NAME = {source.name: source for source in SOURCES}
TABLE_SOURCE = {table: source.name for source in SOURCES for table in source.tables}
