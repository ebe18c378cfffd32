"""Every request idbridge sends to Microsoft Graph and AWS, and every CloudTrail event it parses, with the contract
fixtures (tests/contract/fixtures/<service>/<name>.json) that pin each answer.

tests/contract/test_inventory.py keeps this list honest both ways: a Graph path, AWS operation or CloudTrail event
name that appears in lib/idbridge (outside the sandbox) and is not listed here fails the test, and so does an entry
naming a fixture that does not exist, a code marker no longer in the code, or a fixture no entry names.

Graph entries list `code`: the path literals as they appear in lib/idbridge (f-string fields written `{}`, query
strings cut), which is what the scan finds. LOGIN entries are the anonymous downloads from Entra's sign-in host
(login.microsoftonline.com), not Graph; their `code` is the path after the host root. AWS entries are botocore operation names ("sso-admin:ListInstances");
the scan looks for their Python names (list_instances) in the code.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    name: str                       # what is read or written, in words
    request: str                    # "GET /users?$select=…" | "sso-admin:ListInstances" | "event ExternalIdPDirectoryLogin"
    used_by: str                    # where in lib/idbridge
    fixtures: tuple[str, ...]       # "graph/<name>" | "aws/<name>"
    code: tuple[str, ...] = ()      # Graph: path literals in the code this entry accounts for


G, A, L = "graph/", "aws/", "login/"

GRAPH: tuple[Entry, ...] = (
    Entry("tenant", "GET /organization?$select=id,displayName,verifiedDomains", "collect entra.tenant, preflight",
          (G + "organization_list",), ("/organization",)),
    Entry("users", "GET /users?$select=…&$top=999", "collect entra.users; runbooks",
          (G + "users_list",), ("/users",)),
    Entry("users, changes since a delta link", "GET /users/delta?$select=…&$deltatoken=latest | stored deltaLink "
          "(nextLink pages)", "collect entra.users with collection.incremental",
          (G + "users_delta_latest", G + "users_delta_changes", G + "error_delta_sync_state_not_found"),
          ("/users/delta",)),
    Entry("groups and memberships, changes since a delta link", "GET /groups/delta?$select=…|members"
          "&$deltatoken=latest | stored deltaLink (nextLink pages)",
          "collect entra.groups, entra.group_members with collection.incremental",
          (G + "groups_delta_initial_page", G + "groups_delta_changes"), ("/groups/delta",)),
    Entry("users count", "GET /users?$count=true&$top=1 (ConsistencyLevel: eventual)", "preflight",
          (G + "users_list_count",)),
    Entry("users' signInActivity", "GET /users?$select=id,signInActivity&$top=120", "collect entra.sign_in_activity",
          (G + "users_sign_in_activity", G + "error_licence_required")),
    Entry("a user by UPN", "GET /users/{upn}?$select=id,userPrincipalName,accountEnabled", "runbook 02 test user",
          (G + "user_get_select",), ("/users/{}",)),
    Entry("a user's memberOf", "GET /users/{id}/memberOf?$select=id", "runbook 02 test user",
          (G + "user_list_memberof",), ("/users/{}/memberOf",)),
    Entry("groups", "GET /groups?$select=… | $filter=displayName eq …", "collect entra.groups; runbooks 02, 03; preflight",
          (G + "groups_list",), ("/groups",)),
    Entry("group members", "GET /groups/{id}/members?$select=id (in $batch)", "collect entra.group_members",
          (G + "group_list_members",), ("/groups/{}/members",)),
    Entry("remove a group member", "DELETE /groups/{id}/members/{id}/$ref", "review removals (runbooks/review_apply)",
          (G + "group_delete_member_ref", G + "error_not_found"), ("/groups/{}/members/{}/$ref",)),
    Entry("group transitive members", "GET /groups/{id}/transitiveMembers?$select=id (in $batch)",
          "collect entra.group_members", (G + "group_list_transitivemembers",), ("/groups/{}/transitiveMembers",)),
    Entry("$batch envelope", "POST /$batch", "clients/graph/batch.py",
          (G + "batch_responses",), ("/$batch",)),
    Entry("service principals by filter", "GET /servicePrincipals?$filter=…&$select=…", "collect entra.app; runbooks",
          (G + "serviceprincipal_list_filter",), ("/servicePrincipals",)),
    Entry("service principal, single read", "GET /servicePrincipals/{id}?$select=keyCredentials | id",
          "collect entra.app (certificates); runbook 01", (G + "serviceprincipal_get_select_keycredentials_custom_key",),
          ("/servicePrincipals/{}", "/servicePrincipals/{}{}")),
    Entry("service principal update", "PATCH /servicePrincipals/{id}", "runbook 01",
          (G + "serviceprincipal_update",)),
    Entry("add token signing certificate", "POST /servicePrincipals/{id}/addTokenSigningCertificate", "runbook 01",
          (G + "serviceprincipal_addtokensigningcertificate",), ("/addTokenSigningCertificate",)),
    Entry("claims policy (beta)", "GET /beta/servicePrincipals/{id}/claimsPolicy", "collect entra.app; runbook 01",
          (G + "beta_serviceprincipal_claimspolicy_get", G + "error_not_found"),
          ("/servicePrincipals/{}/claimsPolicy",)),
    Entry("claims policy write (beta)", "PUT | PATCH /beta/servicePrincipals/{id}/claimsPolicy", "runbook 01",
          (G + "beta_serviceprincipal_claimspolicy_update",), ("/claimsPolicy",)),
    Entry("applications by appId", "GET /applications?$filter=appId eq …&$select=id,appId,displayName,identifierUris,web",
          "collect entra.app; runbooks", (G + "application_list_filter_appid_web_multi_region",
                                          G + "application_list_filter_appid_web_govcloud"), ("/applications",)),
    Entry("application, single read", "GET /applications/{id}?$select=…", "runbook 01",
          (G + "application_get_select",), ("/applications/{}",)),
    Entry("application update", "PATCH /applications/{id}", "runbook 01", (G + "application_update",)),
    Entry("gallery template by id", "GET /applicationTemplates/{id}", "runbook 01",
          (G + "applicationtemplate_get",), ("/applicationTemplates/{}",)),
    Entry("gallery templates by name", "GET /applicationTemplates?$filter=displayName eq …", "runbook 01",
          (G + "applicationtemplates_list_filter_aws",), ("/applicationTemplates",)),
    Entry("instantiate the gallery app", "POST /applicationTemplates/{id}/instantiate", "runbook 01",
          (G + "applicationtemplate_instantiate_aws",), ("/applicationTemplates/{}/instantiate",)),
    Entry("app role assignments", "GET /servicePrincipals/{id}/appRoleAssignedTo?$select=…",
          "collect entra.app_assignments; runbook 02", (G + "serviceprincipal_list_approleassignedto",),
          ("/servicePrincipals/{}/appRoleAssignedTo",)),
    Entry("app role assignment create / delete", "POST | DELETE /servicePrincipals/{id}/appRoleAssignedTo[/{id}]",
          "runbook 02", (G + "serviceprincipal_post_approleassignedto", G + "serviceprincipal_delete_approleassignedto"),
          ("/servicePrincipals/{}/appRoleAssignedTo/{}",)),
    Entry("synchronization jobs", "GET /servicePrincipals/{id}/synchronization/jobs",
          "collect entra.provisioning; runbook 02", (G + "synchronization_job_list",),
          ("/servicePrincipals/{}/synchronization/jobs",)),
    Entry("synchronization schema", "GET …/synchronization/jobs/{id}/schema", "collect entra.provisioning; runbook 02",
          (G + "synchronization_schema_get", G + "synchronization_objectmapping_example"), ("/jobs/{}/schema",)),
    Entry("synchronization templates", "GET …/synchronization/templates", "runbook 02",
          (G + "synchronization_template_list",), ("/servicePrincipals/{}/synchronization/templates",)),
    Entry("synchronization job create", "POST …/synchronization/jobs", "runbook 02",
          (G + "synchronization_job_post",), ("/servicePrincipals/{}/synchronization{}", "/jobs")),
    Entry("validate credentials", "POST …/synchronization/jobs[/{id}]/validateCredentials", "runbook 02",
          (G + "synchronization_job_validatecredentials", G + "error_validate_credentials"),
          ("/servicePrincipals/{}/synchronization/jobs/",)),
    Entry("synchronization secrets", "PUT …/synchronization/secrets", "runbook 02",
          (G + "synchronization_secrets_put",), ("/secrets",)),
    Entry("provision on demand", "POST …/synchronization/jobs/{id}/provisionOnDemand", "runbook 02",
          (G + "synchronization_job_provisionondemand",), ("/jobs/{}/provisionOnDemand",)),
    Entry("start the job", "POST …/synchronization/jobs/{id}/start", "runbook 02",
          (G + "synchronization_job_start",), ("/jobs/{}/start",)),
    Entry("provisioning logs", "GET /auditLogs/provisioning?$filter=…&$top=1000", "collect entra.provisioning_logs",
          (G + "provisioning_list_failure",), ("/auditLogs/provisioning",)),
    Entry("sign-ins (beta)", "GET /beta/auditLogs/signIns?$filter=…&$top=1000", "collect entra.sign_ins",
          (G + "beta_signin_list", G + "error_licence_required"), ("/auditLogs/signIns",)),
    Entry("conditional access policies", "GET /identity/conditionalAccess/policies?$select=…",
          "collect entra.conditional_access", (G + "conditionalaccess_policies_list_live",),
          ("/identity/conditionalAccess/policies",)),
    Entry("MFA registration", "GET /reports/authenticationMethods/userRegistrationDetails",
          "collect entra.mfa_registration", (G + "user_registration_details_list", G + "error_licence_required"),
          ("/reports/authenticationMethods/userRegistrationDetails",)),
    Entry("PIM for Groups: eligibility schedules",
          "GET /identityGovernance/privilegedAccess/group/eligibilitySchedules?$filter=groupId eq '{id}'",
          "collect entra.pim_groups", (G + "pim_group_list_eligibilityschedules", G + "error_authorization_denied"),
          ("/identityGovernance/privilegedAccess/group",)),
    Entry("PIM for Groups: assignment schedules",
          "GET /identityGovernance/privilegedAccess/group/assignmentSchedules?$filter=groupId eq '{id}'",
          "collect entra.pim_groups", (G + "pim_group_list_assignmentschedules",)),
    Entry("PIM for Groups: eligibility schedule instances",
          "GET /identityGovernance/privilegedAccess/group/eligibilityScheduleInstances?$filter=groupId eq '{id}'",
          "collect entra.pim_groups", (G + "pim_group_list_eligibilityscheduleinstances",)),
    Entry("PIM for Groups: assignment schedule instances",
          "GET /identityGovernance/privilegedAccess/group/assignmentScheduleInstances?$filter=groupId eq '{id}'",
          "collect entra.pim_groups", (G + "pim_group_list_assignmentscheduleinstances",)),
    Entry("PIM for Groups: assignment schedule requests (activation history: selfActivate, selfDeactivate, "
          "adminAssign...)",
          "GET /identityGovernance/privilegedAccess/group/assignmentScheduleRequests?$filter=groupId eq '{id}'",
          "collect entra.pim_groups", (G + "pim_group_list_assignmentschedulerequests",
                                       G + "pim_group_list_assignmentschedulerequests_selfactivate")),
    Entry("throttling", "any request answered 429 with Retry-After", "clients/graph (SDK retry, paging, batch)",
          (G + "error_throttled",)),
    Entry("expired page token", "a next link answered Directory_ExpiredPageToken", "clients/graph paging, batch",
          (G + "error_expired_page_token",)),
    Entry("permission denied", "any request answered 403 Authorization_RequestDenied", "collect, preflight",
          (G + "error_authorization_denied",)),
)

# AWS API operations (botocore names). Writes are the runbooks' (03_setup_aws_access).
AWS: tuple[Entry, ...] = (
    Entry("caller", "sts:GetCallerIdentity", "collect, preflight", (A + "sts_get_caller_identity",)),
    Entry("assume the audit role", "sts:AssumeRole", "clients/factory.py", (A + "sts_assume_role",)),
    Entry("secret reference", "secretsmanager:GetSecretValue", "clients/factory.py",
          (A + "secretsmanager_get_secret_value",)),
    Entry("instances", "sso-admin:ListInstances", "collect aws.instances, preflight, runbooks",
          (A + "ssoadmin_list_instances", A + "ssoadmin_error_throttling")),
    Entry("instance Regions", "sso-admin:ListRegions", "collect aws.instances, runbooks",
          (A + "ssoadmin_list_regions", A + "ssoadmin_error_access_denied")),
    Entry("permission sets", "sso-admin:ListPermissionSets", "collect, runbook 03", (A + "ssoadmin_list_permission_sets",)),
    Entry("permission set", "sso-admin:DescribePermissionSet", "collect, runbook 03",
          (A + "ssoadmin_describe_permission_set", A + "ssoadmin_error_resource_not_found")),
    Entry("managed policies", "sso-admin:ListManagedPoliciesInPermissionSet", "collect, runbook 03",
          (A + "ssoadmin_list_managed_policies_in_permission_set",)),
    Entry("customer managed policies", "sso-admin:ListCustomerManagedPolicyReferencesInPermissionSet",
          "collect, runbook 03", (A + "ssoadmin_list_customer_managed_policy_references_in_permission_set",)),
    Entry("inline policy", "sso-admin:GetInlinePolicyForPermissionSet", "collect, runbook 03",
          (A + "ssoadmin_get_inline_policy_for_permission_set",)),
    Entry("permissions boundary", "sso-admin:GetPermissionsBoundaryForPermissionSet", "collect, runbook 03",
          (A + "ssoadmin_get_permissions_boundary_for_permission_set", A + "ssoadmin_error_resource_not_found")),
    Entry("attributes for access control (ABAC)", "sso-admin:DescribeInstanceAccessControlAttributeConfiguration",
          "collect aws.abac", (A + "ssoadmin_describe_instance_access_control_attribute_configuration",
                               A + "ssoadmin_error_resource_not_found")),
    Entry("provisioned accounts", "sso-admin:ListAccountsForProvisionedPermissionSet", "collect, runbook 03",
          (A + "ssoadmin_list_accounts_for_provisioned_permission_set",)),
    Entry("account assignments", "sso-admin:ListAccountAssignments", "collect, runbook 03",
          (A + "ssoadmin_list_account_assignments",)),
    Entry("a principal's account assignments", "sso-admin:ListAccountAssignmentsForPrincipal",
          "collect aws.account_assignments (principal-walk)", (A + "ssoadmin_list_account_assignments_for_principal",)),
    Entry("create permission set", "sso-admin:CreatePermissionSet", "runbook 03",
          (A + "ssoadmin_create_permission_set", A + "ssoadmin_error_conflict")),
    Entry("update permission set", "sso-admin:UpdatePermissionSet", "runbook 03", (A + "ssoadmin_empty_response",)),
    Entry("enable ABAC with attributes", "sso-admin:CreateInstanceAccessControlAttributeConfiguration", "runbook 03",
          (A + "ssoadmin_empty_response", A + "ssoadmin_error_conflict")),
    Entry("replace ABAC attributes", "sso-admin:UpdateInstanceAccessControlAttributeConfiguration", "runbook 03",
          (A + "ssoadmin_empty_response",)),
    Entry("attach managed policy", "sso-admin:AttachManagedPolicyToPermissionSet", "runbook 03",
          (A + "ssoadmin_empty_response",)),
    Entry("detach managed policy", "sso-admin:DetachManagedPolicyFromPermissionSet", "runbook 03",
          (A + "ssoadmin_empty_response",)),
    Entry("attach customer managed policy", "sso-admin:AttachCustomerManagedPolicyReferenceToPermissionSet",
          "runbook 03", (A + "ssoadmin_empty_response",)),
    Entry("detach customer managed policy", "sso-admin:DetachCustomerManagedPolicyReferenceFromPermissionSet",
          "runbook 03", (A + "ssoadmin_empty_response",)),
    Entry("put inline policy", "sso-admin:PutInlinePolicyToPermissionSet", "runbook 03", (A + "ssoadmin_empty_response",)),
    Entry("delete inline policy", "sso-admin:DeleteInlinePolicyFromPermissionSet", "runbook 03",
          (A + "ssoadmin_empty_response",)),
    Entry("put permissions boundary", "sso-admin:PutPermissionsBoundaryToPermissionSet", "runbook 03",
          (A + "ssoadmin_empty_response",)),
    Entry("delete permissions boundary", "sso-admin:DeletePermissionsBoundaryFromPermissionSet", "runbook 03",
          (A + "ssoadmin_empty_response",)),
    Entry("provision permission set", "sso-admin:ProvisionPermissionSet", "runbook 03",
          (A + "ssoadmin_provision_permission_set",)),
    Entry("failed provisioning requests", "sso-admin:ListPermissionSetProvisioningStatus",
          "collect aws.provisioning_failures (Filter Status FAILED)",
          (A + "ssoadmin_list_permission_set_provisioning_status",)),
    Entry("failed assignment creations", "sso-admin:ListAccountAssignmentCreationStatus",
          "collect aws.provisioning_failures (Filter Status FAILED)",
          (A + "ssoadmin_list_account_assignment_creation_status",)),
    Entry("provisioning status", "sso-admin:DescribePermissionSetProvisioningStatus",
          "runbook 03, collect aws.provisioning_failures",
          (A + "ssoadmin_describe_permission_set_provisioning_status",)),
    Entry("a principal's account assignments", "sso-admin:ListAccountAssignmentsForPrincipal",
          "review removals: what a group or user grants now", (A + "ssoadmin_list_account_assignments_for_principal",)),
    Entry("create account assignment", "sso-admin:CreateAccountAssignment", "runbook 03",
          (A + "ssoadmin_create_account_assignment",)),
    Entry("delete account assignment", "sso-admin:DeleteAccountAssignment", "runbook 03, review removals",
          (A + "ssoadmin_delete_account_assignment", A + "ssoadmin_error_resource_not_found")),
    Entry("assignment creation status", "sso-admin:DescribeAccountAssignmentCreationStatus",
          "runbook 03, collect aws.provisioning_failures",
          (A + "ssoadmin_describe_account_assignment_creation_status",)),
    Entry("assignment deletion status", "sso-admin:DescribeAccountAssignmentDeletionStatus",
          "runbook 03, review removals",
          (A + "ssoadmin_describe_account_assignment_deletion_status",)),
    Entry("identity store users", "identitystore:ListUsers", "collect aws.identity_store, preflight, checkpoints",
          (A + "identitystore_list_users",)),
    Entry("identity store user", "identitystore:DescribeUser", "runbooks 02, 03, incremental aws.identity_store",
          (A + "identitystore_describe_user",)),
    Entry("identity store groups", "identitystore:ListGroups", "collect aws.identity_store",
          (A + "idstore_list_groups",)),
    Entry("identity store group", "identitystore:DescribeGroup", "runbook 03, incremental aws.identity_store",
          (A + "idstore_describe_group",)),
    Entry("group memberships", "identitystore:ListGroupMemberships", "collect aws.identity_store",
          (A + "idstore_list_group_memberships",)),
    Entry("a user's group memberships", "identitystore:ListGroupMembershipsForMember",
          "incremental aws.identity_store: what a deleted user still belongs to",
          (A + "idstore_list_group_memberships_for_member",)),
    Entry("group membership", "identitystore:DescribeGroupMembership", "review removals: still a member?",
          (A + "idstore_describe_group_membership", A + "ssoadmin_error_resource_not_found")),
    Entry("delete group membership", "identitystore:DeleteGroupMembership", "review removals",
          (A + "idstore_delete_group_membership",)),
    Entry("user id by attribute", "identitystore:GetUserId", "runbooks 02, 03", (A + "idstore_get_user_id",)),
    Entry("group id by attribute", "identitystore:GetGroupId", "runbook 03", (A + "idstore_get_group_id",)),
    Entry("organisation", "organizations:DescribeOrganization", "preflight, collect aws.delegation",
          (A + "organizations_describe_organization",)),
    Entry("Identity Center delegated administrators", "organizations:ListDelegatedAdministrators",
          "collect aws.delegation", (A + "organizations_list_delegated_administrators",)),
    Entry("service control policies", "organizations:ListPolicies", "collect aws.scps (SERVICE_CONTROL_POLICY)",
          (A + "organizations_list_policies",)),
    Entry("a policy's content", "organizations:DescribePolicy", "collect aws.scps",
          (A + "organizations_describe_policy",)),
    Entry("where a policy is attached", "organizations:ListTargetsForPolicy", "collect aws.scps",
          (A + "organizations_list_targets_for_policy",)),
    Entry("roots", "organizations:ListRoots", "collect aws.organizations, runbook 03", (A + "organizations_list_roots",)),
    Entry("accounts under a parent", "organizations:ListAccountsForParent", "collect aws.organizations, runbook 03",
          (A + "organizations_list_accounts_for_parent",)),
    Entry("OUs under a parent", "organizations:ListOrganizationalUnitsForParent", "collect aws.organizations",
          (A + "organizations_list_organizational_units_for_parent",)),
    Entry("account tags", "organizations:ListTagsForResource", "collect aws.organizations",
          (A + "organizations_list_tags_for_resource",)),
    Entry("IAM policy exists", "iam:GetPolicy", "runbook 03", (A + "iam_get_policy",)),
    Entry("CloudTrail lookups", "cloudtrail:LookupEvents", "collect aws.cloudtrail (by EventName); incremental runs "
          "(ReadOnly=false: collect/aws/changes.py)", (A + "cloudtrail_lookup_events",)),
    Entry("Security Hub findings imported before", "securityhub:GetFindings", "exports/securityhub.py",
          (A + "securityhub_get_findings",)),
    Entry("Security Hub import", "securityhub:BatchImportFindings", "exports/securityhub.py",
          (A + "securityhub_batch_import_findings",)),
)

# CloudTrail records the kit parses (CloudTrailEvent inside a LookupEvents item), by event name.
EVENTS: tuple[Entry, ...] = (
    Entry("portal sign-in", "event UserAuthentication", "model signins, access activity",
          (A + "user_authentication_success",)),
    Entry("refused SAML sign-in", "event ExternalIdPDirectoryLogin", "model signins",
          (A + "externalidp_directory_login_failure",)),
    Entry("SCIM token created / deleted", "event CreateBearerToken | DeleteBearerToken", "provisioning checks",
          (A + "sso_directory_create_bearer_token",)),
    Entry("SAML IdP configuration changed",
          "event Create|Update|Delete|Enable|DisableExternalIdPConfigurationForDirectory", "saml checks",
          (A + "sso_directory_update_externalidp_configuration",)),
    Entry("identity source switched", "event AssociateDirectory | DisassociateDirectory", "aws checks",
          (A + "sso_associate_directory",)),
    Entry("permission-set provisioning writes (refused ones)", "event CreateAccountAssignment | "
          "ProvisionPermissionSet", "aws.provisioning_failed", (A + "sso_create_account_assignment_refused",)),
    Entry("identity-store user made by hand (API or console)", "event CreateUser | CreateGroup (identitystore, "
          "sso-directory)", "model origin", (A + "identitystore_api_create_user_event",)),
    Entry("SCIM writes", "event CreateUser | PutUser | PatchUser | DeleteUser | CreateGroup | PatchGroup | DeleteGroup "
          "(identitystore-scim)", "collect aws.cloudtrail; incremental runs (PatchGroup's id)",
          (A + "scim_create_user", A + "cloudtrail_scim_patch_group")),
    # Incremental runs (collection.incremental) read every write event of the watched sources and re-read what
    # each names (collect/aws/changes.py: the allow-list; an event not on it means a full walk).
    Entry("Identity Center admin writes (incremental runs)", "event CreateAccountAssignment | DeleteAccountAssignment "
          "| UpdatePermissionSet | DeletePermissionSet | AttachManagedPolicyToPermissionSet | "
          "DetachManagedPolicyFromPermissionSet | AttachCustomerManagedPolicyReferenceToPermissionSet | "
          "DetachCustomerManagedPolicyReferenceFromPermissionSet | PutInlinePolicyToPermissionSet | "
          "DeleteInlinePolicyFromPermissionSet | PutPermissionsBoundaryToPermissionSet | "
          "DeletePermissionsBoundaryFromPermissionSet | ProvisionPermissionSet (sso)", "collect/aws/changes.py",
          (A + "cloudtrail_sso_update_permission_set", A + "cloudtrail_sso_delete_account_assignment",
           A + "sso_create_account_assignment_refused")),
    Entry("Identity Store API membership writes (incremental runs)", "event CreateGroupMembership | "
          "DeleteGroupMembership (identitystore)", "collect/aws/changes.py",
          (A + "cloudtrail_identitystore_create_group_membership",
           A + "cloudtrail_identitystore_delete_group_membership")),
    Entry("Organizations writes (incremental runs)", "event TagResource | UntagResource | MoveAccount | … "
          "(organizations, us-east-1)", "collect/aws/changes.py",
          (A + "cloudtrail_organizations_tag_resource", A + "cloudtrail_organizations_move_account")),
)

# Anonymous downloads from Entra's sign-in host (saml/urls.py builds the URL; runbook 01 fetches it).
LOGIN: tuple[Entry, ...] = (
    Entry("federation metadata of the app", "GET https://login.microsoftonline.com/{tenant}/federationmetadata/"
          "2007-06/federationmetadata.xml?appid={appId}", "runbook 01 (runbooks/saml_metadata.py), saml/metadata.py",
          (L + "federationmetadata",), ("/{}/federationmetadata/2007-06/federationmetadata.xml",)),
)

ALL: tuple[Entry, ...] = GRAPH + AWS + EVENTS + LOGIN

# Fixtures another change is adding (issue 12 item 8, CreatedBy evidence): named here so the inventory covers the
# operations, not yet required to exist. The lead empties this list when that work is merged.
PENDING: frozenset[str] = frozenset()
