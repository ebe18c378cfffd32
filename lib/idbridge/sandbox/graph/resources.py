"""The entity types the emulator serves: property names ($select / $filter validation), page sizes and Graph's
serving rules (v1.0 /users default property set, signInActivity only on $select, keys only on a single object,
version-only properties, query options and $filter operators an endpoint refuses).
"""

from __future__ import annotations

from dataclasses import replace

from idbridge.sandbox.graph.odata import Query, Resource
from idbridge.sandbox.graph.store import Json

USER_PROPERTIES = frozenset("""
aboutMe accountEnabled ageGroup assignedLicenses assignedPlans authorizationInfo birthday businessPhones city
companyName consentProvidedForMinor country createdDateTime creationType customSecurityAttributes deletedDateTime
department displayName employeeHireDate employeeLeaveDateTime employeeId employeeOrgData employeeType
externalUserState externalUserStateChangeDateTime faxNumber givenName hireDate id identities imAddresses interests
isManagementRestricted isResourceAccount jobTitle lastPasswordChangeDateTime legalAgeGroupClassification
licenseAssignmentStates mail mailboxSettings mailNickname mobilePhone mySite officeLocation
onPremisesDistinguishedName onPremisesDomainName onPremisesExtensionAttributes onPremisesImmutableId
onPremisesLastSyncDateTime onPremisesProvisioningErrors onPremisesSamAccountName onPremisesSecurityIdentifier
onPremisesSyncEnabled onPremisesUserPrincipalName otherMails passwordPolicies passwordProfile pastProjects
postalCode preferredDataLocation preferredLanguage preferredName provisionedPlans proxyAddresses responsibilities
schools securityIdentifier serviceProvisioningErrors showInAddressList signInActivity
signInSessionsValidFromDateTime skills state streetAddress surname usageLocation userPrincipalName userType
""".split())

# What GET /v1.0/users returns without $select (Graph's documented default set).
USER_DEFAULT_SELECT = ("businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
                       "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id")

GROUP_PROPERTIES = frozenset("""
assignedLabels assignedLicenses classification createdDateTime deletedDateTime description displayName
expirationDateTime groupTypes hasMembersWithLicenseErrors id isAssignableToRole licenseProcessingState mail
mailEnabled mailNickname membershipRule membershipRuleProcessingState onPremisesDomainName
onPremisesLastSyncDateTime onPremisesNetBiosName onPremisesProvisioningErrors onPremisesSamAccountName
onPremisesSecurityIdentifier onPremisesSyncEnabled preferredDataLocation preferredLanguage proxyAddresses
renewedDateTime resourceBehaviorOptions resourceProvisioningOptions securityEnabled securityIdentifier
serviceProvisioningErrors theme uniqueName visibility
""".split())

APPLICATION_PROPERTIES = frozenset("""
addIns api appId applicationTemplateId appRoles certification createdDateTime defaultRedirectUri deletedDateTime
description disabledByMicrosoftStatus groupMembershipClaims id identifierUris info isDeviceOnlyAuthSupported
isFallbackPublicClient keyCredentials logo nativeAuthenticationApisEnabled notes optionalClaims
parentalControlSettings passwordCredentials publicClient publisherDomain requestSignatureVerification
requiredResourceAccess samlMetadataUrl serviceManagementReference servicePrincipalLockConfiguration
signInAudience spa tags tokenEncryptionKeyId uniqueName verifiedPublisher web displayName
""".split())

SERVICE_PRINCIPAL_PROPERTIES = frozenset("""
accountEnabled addIns alternativeNames appDescription appDisplayName appId applicationTemplateId
appOwnerOrganizationId appRoleAssignmentRequired appRoles createdDateTime deletedDateTime description
disabledByMicrosoftStatus displayName homepage id info keyCredentials loginUrl logoutUrl notes
notificationEmailAddresses oauth2PermissionScopes passwordCredentials preferredSingleSignOnMode
preferredTokenSigningKeyThumbprint replyUrls resourceSpecificApplicationPermissions samlSingleSignOnSettings
servicePrincipalNames servicePrincipalType signInAudience tags tokenEncryptionKeyId verifiedPublisher
""".split())

TEMPLATE_PROPERTIES = frozenset("""
categories description displayName homePageUrl id logoUrl publisher supportedProvisioningTypes
supportedSingleSignOnModes
""".split())

ASSIGNMENT_PROPERTIES = frozenset("""
appRoleId createdDateTime deletedDateTime id principalDisplayName principalId principalType resourceDisplayName
resourceId
""".split())

SIGN_IN_PROPERTIES = frozenset("""
appDisplayName appId appliedConditionalAccessPolicies authenticationRequirement clientAppUsed
conditionalAccessStatus correlationId createdDateTime deviceDetail id ipAddress isInteractive location
resourceDisplayName resourceId riskDetail riskEventTypes riskEventTypes_v2 riskLevelAggregated
riskLevelDuringSignIn riskState status userDisplayName userId userPrincipalName
""".split())

PROVISIONING_PROPERTIES = frozenset("""
action activityDateTime changeId cycleId durationInMilliseconds id initiatedBy jobId modifiedProperties
provisioningAction provisioningStatusInfo provisioningSteps servicePrincipal sourceIdentity sourceSystem
statusInfo targetIdentity targetSystem tenantId
""".split())

REGISTRATION_PROPERTIES = frozenset("""
defaultMfaMethod id isAdmin isMfaCapable isMfaRegistered isPasswordlessCapable isSsprCapable isSsprEnabled
isSsprRegistered isSystemPreferredAuthenticationMethodEnabled lastUpdatedDateTime methodsRegistered
systemPreferredAuthenticationMethods userDisplayName userPreferredMethodForSecondaryAuthentication
userPrincipalName userType
""".split())

CA_PROPERTIES = frozenset("""
conditions createdDateTime displayName grantControls id modifiedDateTime sessionControls state templateId
""".split())

ORGANIZATION_PROPERTIES = frozenset("""
assignedPlans businessPhones city country countryLetterCode createdDateTime deletedDateTime displayName id
marketingNotificationEmails onPremisesLastSyncDateTime onPremisesSyncEnabled postalCode preferredLanguage
privacyProfile provisionedPlans securityComplianceNotificationMails securityComplianceNotificationPhones state
street technicalNotificationMails tenantType verifiedDomains
""".split())

JOB_PROPERTIES = frozenset("id schedule status synchronizationJobSettings templateId".split())
SYNC_TEMPLATE_PROPERTIES = frozenset("applicationId default description discoverable factoryTag id metadata "
                                     "schema".split())


# Properties one Graph version has and the other does not (checked against microsoft-graph-docs-contrib
# api-reference/{v1.0,beta}/resources/*.md): served, $select-ed and $filter-ed only in that version.
SIGN_IN_ONLY_IN = {"authenticationRequirement": "beta",  # v1.0 signIn has no such property
                   "riskEventTypes": "v1.0"}             # beta lists only riskEventTypes_v2
PROVISIONING_ONLY_IN = {"action": "beta", "statusInfo": "beta"}  # beta's deprecated names; v1.0 has neither
REGISTRATION_ONLY_IN = {"defaultMfaMethod": "beta"}      # v1.0: userPreferredMethodForSecondaryAuthentication

# Query options the reference says an endpoint does not take (Graph answers 400 "Query option 'X' is not allowed").
# signin-list: "supports the $top, $skiptoken, and $filter" ($select refused, per devx-api#1250);
# authenticationmethodsroot-list-userregistrationdetails: "supports only the $filter and $orderBy";
# userregistrationdetails-get: "does not support the OData query parameters".
SIGN_IN_REFUSED = frozenset({"$select"})
REGISTRATION_REFUSED = frozenset({"$select", "$top", "$count", "$expand", "$search", "$skip"})
REGISTRATION_REFUSED_SINGLE = frozenset({"$select", "$expand"})
# provisioningobjectsummary-list: "$filter (eq, contains, gt, lt)": no ge / le / ne / startswith / not / in / any.
PROVISIONING_FILTER_OPS = frozenset({"eq", "gt", "lt", "contains"})

# /users with signInActivity $select-ed or $filter-ed: "the maximum page size is 120 users. Requests with $top set
# higher than 120 will return pages with up to 120 users" (user-list.md, user.md v1.0).
SIGN_IN_ACTIVITY_PAGE_CAP = 120


def _hide_keys(item: Json, q: Query) -> Json:
    """keyCredentials[].key is returned only when keyCredentials is $select-ed on a single object."""
    if "keyCredentials" in item and not (q.single and q.selects("keyCredentials")):
        item = {**item, "keyCredentials": [{**k, "key": None} for k in item["keyCredentials"] or []]}
    return item


USER = Resource("user", USER_PROPERTIES, directory=True, default_select=USER_DEFAULT_SELECT,
                select_only=frozenset({"signInActivity"}))
GROUP = Resource("group", GROUP_PROPERTIES, directory=True)
APPLICATION = Resource("application", APPLICATION_PROPERTIES, directory=True, project=_hide_keys)
SERVICE_PRINCIPAL = Resource("servicePrincipal", SERVICE_PRINCIPAL_PROPERTIES, directory=True, project=_hide_keys)
DIRECTORY_OBJECT = Resource("directoryObject", USER_PROPERTIES | GROUP_PROPERTIES | SERVICE_PRINCIPAL_PROPERTIES,
                            directory=True, by_type={"#microsoft.graph.user": USER, "#microsoft.graph.group": GROUP,
                                                     "#microsoft.graph.servicePrincipal": SERVICE_PRINCIPAL})
TEMPLATE = Resource("applicationTemplate", TEMPLATE_PROPERTIES, default_page=100)
ASSIGNMENT = Resource("appRoleAssignment", ASSIGNMENT_PROPERTIES, orderable=frozenset({"createdDateTime"}))
SIGN_IN = Resource("signIn", SIGN_IN_PROPERTIES, default_page=1000, max_page=1000,
                   orderable=frozenset({"createdDateTime"}), default_order=("createdDateTime", True),
                   only_in=SIGN_IN_ONLY_IN, refused=SIGN_IN_REFUSED)
PROVISIONING = Resource("provisioningObjectSummary", PROVISIONING_PROPERTIES, default_page=1000, max_page=1000,
                        orderable=frozenset({"activityDateTime"}), default_order=("activityDateTime", True),
                        only_in=PROVISIONING_ONLY_IN, filter_ops=PROVISIONING_FILTER_OPS)
REGISTRATION = Resource("userRegistrationDetails", REGISTRATION_PROPERTIES, default_page=1000, max_page=1000,
                        orderable=frozenset({"userPrincipalName", "userDisplayName"}),
                        only_in=REGISTRATION_ONLY_IN, refused=REGISTRATION_REFUSED,
                        refused_single=REGISTRATION_REFUSED_SINGLE)
CA_POLICY = Resource("conditionalAccessPolicy", CA_PROPERTIES, orderable=frozenset({"displayName"}))
ORGANIZATION = Resource("organization", ORGANIZATION_PROPERTIES)
SYNC_JOB = Resource("synchronizationJob", JOB_PROPERTIES, orderable=frozenset())
SYNC_TEMPLATE = Resource("synchronizationTemplate", SYNC_TEMPLATE_PROPERTIES, orderable=frozenset())



def widened(resource: Resource, items: list[Json]) -> Resource:
    """The resource with every property some item carries: log records are written by other parts of the
    sandbox (the provisioning engine) and may hold properties beyond the static list."""
    extra = {key for item in items for key in item} - resource.properties
    return replace(resource, properties=resource.properties | extra) if extra else resource
