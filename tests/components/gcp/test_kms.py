import pulumi
import pytest

from genai_platform.components.gcp.kms import KmsKeyRing, KmsKeyRingArgs, service_agent
from genai_platform.mockcloud import run_under_mocks

RING = "gcp:kms/keyRing:KeyRing"
KEY = "gcp:kms/cryptoKey:CryptoKey"
MEMBER = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"
AGENT = service_agent("artifactregistry", "123456789012")


def plan_keys(**overrides):
    def program():
        keys = KmsKeyRing("chat-keys", KmsKeyRingArgs(**{"location": "europe-west4", "keys": {"images": [AGENT]},
                                                         **overrides}))
        for name, key_id in keys.key_ids.items():
            pulumi.export(name, key_id)

    return run_under_mocks(program, config={"gcp:project": "genai-platform-dev"})


def test_one_ring_one_rotating_key_per_purpose_granted_to_its_service_agent_only():
    plan = plan_keys(keys={"images": [AGENT], "alerts": [service_agent("pubsub", "123456789012")]},
                     tags={"Environment": "prod"})
    assert plan.type_counts() == {"genai:gcp:KmsKeyRing": 1, RING: 1, KEY: 2, MEMBER: 2}
    ring = plan.one(RING)
    assert ring.inputs["location"] == "europe-west4" and "name" not in ring.inputs  # auto-named: rings are forever
    keys = {key.name: key.inputs for key in plan.of_type(KEY)}
    for key in keys.values():
        assert key["keyRing"] == ring.id
        assert key["purpose"] == "ENCRYPT_DECRYPT"
        assert key["rotationPeriod"] == "7776000s"  # 90 days
        assert key["versionTemplate"] == {"algorithm": "GOOGLE_SYMMETRIC_ENCRYPTION", "protectionLevel": "SOFTWARE"}
        assert key["labels"]["environment"] == "prod"
    grants = {(m.inputs["cryptoKeyId"], m.inputs["role"], m.inputs["member"]) for m in plan.of_type(MEMBER)}
    images, alerts = (plan.named(f"chat-keys-{k}", KEY).id for k in ("images", "alerts"))
    assert grants == {
        (images, "roles/cloudkms.cryptoKeyEncrypterDecrypter",
         "serviceAccount:service-123456789012@gcp-sa-artifactregistry.iam.gserviceaccount.com"),
        (alerts, "roles/cloudkms.cryptoKeyEncrypterDecrypter",
         "serviceAccount:service-123456789012@gcp-sa-pubsub.iam.gserviceaccount.com"),
    }
    assert plan.outputs == {"images": images, "alerts": alerts}
    assert images.startswith("projects/genai-platform-dev/locations/europe-west4/keyRings/chat-keys-ring-")


def test_key_id_waits_for_the_grant_so_the_consumer_is_created_after_it():
    def program():
        keys = KmsKeyRing("chat-keys", KmsKeyRingArgs(location="europe-west4", keys={"images": [AGENT]}))
        pulumi.CustomResource("test:index:Consumer", "consumer", {"kmsKeyName": keys.key_ids["images"]})

    plan = run_under_mocks(program)
    consumer = plan.named("consumer")
    assert plan.one(MEMBER).urn in consumer.dependencies and plan.one(KEY).urn in consumer.dependencies


@pytest.mark.parametrize("protect", [True, False])
def test_protect_covers_ring_and_keys_not_grants(protect):
    plan = plan_keys(protect=protect)
    assert {r.type for r in plan.resources if r.protect} == ({RING, KEY} if protect else set())


def test_service_agents_of_the_cmek_services():
    assert service_agent("storage", "42") == "serviceAccount:service-42@gs-project-accounts.iam.gserviceaccount.com"


@pytest.mark.parametrize(("overrides", "message"), [
    ({"rotation_period_days": 91}, "rotation_period_days=91 is out of range: use 1 to 90."),
    ({"keys": {}}, "keys={} is empty: name at least one key and the principals that use it."),
    ({"keys": {"Images": [AGENT]}},
     "keys has the key name 'Images': use at most 41 lower-case letters, digits and '-', starting with a letter."),
    ({"keys": {"images": ["allUsers"]}},
     "keys['images'] contains 'allUsers', which would let anyone use the key: name the service agent that encrypts "
     "with it."),
    ({"location": "Europe West"},
     "location='Europe West' is not a Cloud KMS location: use the location of the protected resources, e.g. "
     "'europe-west4' (or a multi-region such as 'europe')."),
])
def test_impossible_arguments_are_refused_with_the_fix(overrides, message):
    with pytest.raises(ValueError) as error:
        plan_keys(**overrides)
    assert str(error.value) == message
