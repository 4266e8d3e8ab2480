"""KmsKeyRing: a Cloud KMS key ring with rotating customer-managed keys, each usable by the principals named."""

import re
from dataclasses import dataclass, field

import pulumi
from pulumi_gcp import kms

from genai_platform.components.gcp.iam_members import check_members, member_slug
from genai_platform.components.tagging import gcp_labels
from genai_platform.components.validation import check_range

ENCRYPTER_DECRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
SECONDS_PER_DAY = 86_400
MAX_ROTATION_DAYS = 90
"""The longest rotation the platform accepts (CIS GCP 1.10, checkov CKV_GCP_43)."""

SERVICE_AGENT_DOMAINS = {
    "artifactregistry": "gcp-sa-artifactregistry.iam.gserviceaccount.com",
    "pubsub": "gcp-sa-pubsub.iam.gserviceaccount.com",
    "storage": "gs-project-accounts.iam.gserviceaccount.com",
}
"""Where each service's Google-managed service agent lives: it, not the caller, uses the key for CMEK."""

_LOCATION = re.compile(r"^[a-z]+(-[a-z]+[0-9]+)?$")
_KEY = re.compile(r"^[a-z][a-z0-9-]{0,40}$")


def service_agent(service: str, project_number: str) -> str:
    """The IAM member of ``service``'s service agent in the project numbered ``project_number``."""
    return f"serviceAccount:service-{project_number}@{SERVICE_AGENT_DOMAINS[service]}"


@dataclass
class KmsKeyRingArgs:
    """Arguments of :class:`KmsKeyRing`. Every default is the secure, cheap one."""

    location: str
    """Location of the key ring, e.g. ``europe-west4`` or ``europe``. Required: a CMEK key must be in the location
    of the resource it protects (a regional repository or bucket), so the caller names it."""

    keys: dict[str, list[str]]
    """One symmetric key per entry, ``{"images": ["serviceAccount:service-<n>@gcp-sa-artifactregistry..."]}``:
    the key's short name (lower-case letters, digits, '-') and the principals granted
    ``roles/cloudkms.cryptoKeyEncrypterDecrypter`` on that key only (usually one service agent:
    :func:`service_agent`). At least one key; ``allUsers``/``allAuthenticatedUsers`` are refused."""

    rotation_period_days: int = MAX_ROTATION_DAYS
    """Days between automatic rotations, 1-90. New data is encrypted with the newest version; old versions
    stay to decrypt what they encrypted. Each version kept costs $0.06/month."""

    project: str | None = None
    """Project of the key ring; default: the provider's ``gcp:project``."""

    protect: bool = False
    """Pulumi ``protect`` on the key ring and keys. A destroyed key makes everything encrypted with it unreadable
    for good, so prod protects them."""

    tags: dict[str, str] = field(default_factory=dict)
    """Extra labels (lower-cased for GCP) on the keys (the stack passes ``Environment``)."""


class KmsKeyRing(pulumi.ComponentResource):
    """A key ring holding one rotating software key per purpose.

    Key rings and keys cannot be deleted in Cloud KMS (only their versions are destroyed), so both are
    auto-named: a stack torn down and recreated gets new ones instead of failing on a name in use.
    """

    key_ids: dict[str, pulumi.Output[str]]
    """Resource name of each key (``projects/.../keyRings/.../cryptoKeys/...``), the ``kms_key_name`` of the
    resource it protects. It resolves only once the key's IAM grants exist: a service creating a CMEK resource
    checks its agent's access at creation."""

    def __init__(self, name: str, args: KmsKeyRingArgs, opts: pulumi.ResourceOptions | None = None):
        _validate(args)
        super().__init__("genai:gcp:KmsKeyRing", name, None, opts)
        protected = pulumi.ResourceOptions(parent=self, protect=args.protect)
        ring = kms.KeyRing(f"{name}-ring", location=args.location, project=args.project, opts=protected)
        self.key_ids = {}
        for key_name, members in args.keys.items():
            key = kms.CryptoKey(
                f"{name}-{key_name}",
                key_ring=ring.id,
                purpose="ENCRYPT_DECRYPT",
                rotation_period=f"{args.rotation_period_days * SECONDS_PER_DAY}s",
                version_template=kms.CryptoKeyVersionTemplateArgs(algorithm="GOOGLE_SYMMETRIC_ENCRYPTION",
                                                                  protection_level="SOFTWARE"),
                labels=gcp_labels(args.tags),
                opts=protected,
            )
            grants = [kms.CryptoKeyIAMMember(
                f"{name}-{key_name}-{member_slug(member)}",
                crypto_key_id=key.id,
                role=ENCRYPTER_DECRYPTER,
                member=member,
                opts=pulumi.ResourceOptions(parent=self),
            ) for member in members]
            self.key_ids[key_name] = pulumi.Output.all(key.id, *(grant.id for grant in grants)).apply(
                lambda ids: ids[0])
        self.register_outputs({"key_ids": self.key_ids})


def _validate(args: KmsKeyRingArgs) -> None:
    if not _LOCATION.match(args.location):
        raise ValueError(f"location={args.location!r} is not a Cloud KMS location: use the location of the protected "
                         "resources, e.g. 'europe-west4' (or a multi-region such as 'europe').")
    if not args.keys:
        raise ValueError("keys={} is empty: name at least one key and the principals that use it.")
    for key_name, members in args.keys.items():
        if not _KEY.match(key_name):
            raise ValueError(f"keys has the key name {key_name!r}: use at most 41 lower-case letters, digits and '-', "
                             "starting with a letter.")
        check_members(f"keys[{key_name!r}]", members,
                      ", which would let anyone use the key: name the service agent that encrypts with it.")
    check_range("rotation_period_days", args.rotation_period_days, 1, MAX_ROTATION_DAYS)
