"""Facts about the real clouds that the library and the sandbox both rely on: one place, owned by the library.

The sandbox imports these to emulate Entra and AWS; the collectors and runbooks use them to find the AWS app. URL shapes of the SAML bridge are in metadata_urls. Only
facts live here (identifiers and names the clouds publish), never a rule: the emulator's behaviour and the checks'
predictions must stay independent of each other.
"""

from __future__ import annotations

# The Microsoft Entra gallery application "AWS IAM Identity Center": every tenant's copy of the app is instantiated
# from this template, and its provisioning job from the synchronization template of the same name family.
AWS_GALLERY_TEMPLATE_ID = "21ed01d2-ec13-4e9e-86c1-cd546719ebc4"
AWS_GALLERY_TEMPLATE_NAME = "AWS IAM Identity Center (successor to AWS Single Sign-On)"
AWS_SYNC_TEMPLATE_ID = "aWSSingleSignon"



def scim_endpoint_url(region: str, tenant: str) -> str:
    """The SCIM endpoint Identity Center shows when automatic provisioning is enabled (`tenant`: its own id)."""
    return f"https://scim.{region}.amazonaws.com/{tenant}/scim/v2"
