import re

import pulumi
import pytest

from genai_platform.components.gcp.cloud_run import CloudRunService, CloudRunServiceArgs, SecretEnv
from genai_platform.mockcloud import run_under_mocks

CONFIG = {"gcp:project": "genai-platform-dev", "gcp:region": "europe-west4", "aws:region": "us-east-1"}
SERVICE = "gcp:cloudrunv2/service:Service"
INVOKER = "gcp:cloudrunv2/serviceIamMember:ServiceIamMember"
PROJECT_MEMBER = "gcp:projects/iAMMember:IAMMember"
SECRET_MEMBER = "gcp:secretmanager/secretIamMember:SecretIamMember"
ACCOUNT = "gcp:serviceaccount/account:Account"
IMAGE = "europe-west4-docker.pkg.dev/genai-platform-dev/apps/chat@sha256:" + "a" * 64
SA_MEMBER = "serviceAccount:chat-run@genai-platform-dev.iam.gserviceaccount.com"
GPU = {"gpu": "nvidia-l4", "cpu": 4, "memory_mib": 16384, "cpu_idle": False}


def plan_service(**kwargs):
    def program():
        service = CloudRunService("chat", CloudRunServiceArgs(image=IMAGE, **kwargs))
        pulumi.export("url", service.url)
        pulumi.export("service_name", service.service_name)
        pulumi.export("service_account_email", service.service_account_email)

    return run_under_mocks(program, config=CONFIG)


def container(plan):
    return plan.one(SERVICE).inputs["template"]["containers"][0]


def test_defaults_are_private_scale_to_zero_and_request_billed():
    plan = plan_service(tags={"Environment": "Dev"})
    assert plan.type_counts() == {"genai:gcp:CloudRunService": 1, ACCOUNT: 1, SERVICE: 1}
    service = plan.one(SERVICE)
    assert service.parent.endswith("genai:gcp:CloudRunService::chat")
    inputs = service.inputs
    assert inputs["name"] == "chat"
    assert inputs["location"] == "europe-west4"
    assert inputs["project"] == "genai-platform-dev"
    assert inputs["ingress"] == "INGRESS_TRAFFIC_INTERNAL_ONLY"
    assert inputs["deletionProtection"] is True
    assert inputs["labels"] == {"managedby": "pulumi", "platform": "genai-platform", "environment": "dev"}
    template = inputs["template"]
    assert template["serviceAccount"] == "chat-run@genai-platform-dev.iam.gserviceaccount.com"
    assert template["scaling"] == {"minInstanceCount": 0, "maxInstanceCount": 3}
    assert template["maxInstanceRequestConcurrency"] == 80
    assert template["timeout"] == "900s"
    assert "nodeSelector" not in template and "gpuZonalRedundancyDisabled" not in template
    resources = container(plan)["resources"]
    assert resources == {"limits": {"cpu": "1", "memory": "512Mi"}, "cpuIdle": True, "startupCpuBoost": True}
    assert container(plan)["ports"] == {"containerPort": 8080, "name": "http1"}
    assert container(plan)["startupProbe"] == {"tcpSocket": {"port": 8080}, "periodSeconds": 10,
                                               "failureThreshold": 30, "timeoutSeconds": 5}
    assert "livenessProbe" not in container(plan)


def test_no_public_invoker_and_no_project_roles_by_default():
    plan = plan_service()
    assert plan.of_type(INVOKER) == []
    assert plan.of_type(PROJECT_MEMBER) == []
    account = plan.one(ACCOUNT)
    assert account.inputs["accountId"] == "chat-run"
    assert account.inputs["project"] == "genai-platform-dev"


def test_outputs_are_the_run_app_url_service_name_and_account_email():
    plan = plan_service()
    assert re.fullmatch(r"https://chat-[0-9a-f]{10}-ez\.a\.run\.app", plan.outputs["url"])
    assert plan.outputs["service_name"] == "chat"
    assert plan.outputs["service_account_email"] == "chat-run@genai-platform-dev.iam.gserviceaccount.com"


def test_explicit_region_project_and_names_override_provider_config():
    plan = plan_service(region="us-central1", project="genai-platform-prod", service_name="chat-ui",
                        service_account_id="chat-ui-runtime")
    service = plan.one(SERVICE).inputs
    assert (service["location"], service["project"], service["name"]) == ("us-central1", "genai-platform-prod",
                                                                          "chat-ui")
    assert plan.outputs["service_account_email"] == "chat-ui-runtime@genai-platform-prod.iam.gserviceaccount.com"
    assert plan.outputs["url"].endswith("-uc.a.run.app")


def test_each_project_role_is_one_member_binding_for_the_service_account():
    plan = plan_service(project_roles=["roles/aiplatform.user", "roles/storage.objectViewer"])
    bindings = plan.of_type(PROJECT_MEMBER)
    assert sorted((b.name, b.inputs["role"]) for b in bindings) == [
        ("chat-aiplatform-user", "roles/aiplatform.user"),
        ("chat-storage-objectViewer", "roles/storage.objectViewer"),
    ]
    assert {b.inputs["member"] for b in bindings} == {SA_MEMBER}
    assert {b.inputs["project"] for b in bindings} == {"genai-platform-dev"}
    # The first revision starts with its permissions in place.
    assert {b.urn for b in bindings} <= set(plan.one(SERVICE).dependencies)


def test_custom_project_role_is_accepted():
    plan = plan_service(project_roles=["projects/genai-platform-dev/roles/chatReader"])
    assert plan.one(PROJECT_MEMBER).inputs["role"] == "projects/genai-platform-dev/roles/chatReader"


def test_allow_unauthenticated_grants_all_users_the_invoker_role():
    plan = plan_service(allow_unauthenticated=True, ingress="INGRESS_TRAFFIC_ALL")
    invoker = plan.one(INVOKER)
    assert invoker.inputs == {"name": "chat", "location": "europe-west4", "project": "genai-platform-dev",
                              "role": "roles/run.invoker", "member": "allUsers"}
    assert plan.one(SERVICE).inputs["ingress"] == "INGRESS_TRAFFIC_ALL"


def test_named_invokers_get_one_binding_each_and_no_public_access():
    members = ["serviceAccount:gateway@genai-platform-dev.iam.gserviceaccount.com", "group:chat-testers@example.com"]
    plan = plan_service(invoker_members=members)
    invokers = plan.of_type(INVOKER)
    assert sorted(i.inputs["member"] for i in invokers) == sorted(members)
    assert {i.inputs["role"] for i in invokers} == {"roles/run.invoker"}
    assert "allUsers" not in {i.inputs["member"] for i in invokers}


def test_gpu_service_gets_an_l4_and_always_allocated_cpu():
    plan = plan_service(**GPU, min_instances=1, max_instances=2, gpu_zonal_redundancy_disabled=True,
                        max_instance_request_concurrency=8)
    template = plan.one(SERVICE).inputs["template"]
    assert template["nodeSelector"] == {"accelerator": "nvidia-l4"}
    assert template["gpuZonalRedundancyDisabled"] is True
    assert template["scaling"] == {"minInstanceCount": 1, "maxInstanceCount": 2}
    assert template["maxInstanceRequestConcurrency"] == 8
    assert container(plan)["resources"]["limits"] == {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "1"}
    assert container(plan)["resources"]["cpuIdle"] is False


def test_gpu_keeps_zonal_redundancy_unless_told():
    template = plan_service(**GPU).one(SERVICE).inputs["template"]
    assert template["gpuZonalRedundancyDisabled"] is False


def test_secrets_are_referenced_never_inlined_and_granted_per_secret():
    plan = plan_service(
        env={"MODEL_NAME": "gpt2-small", "MAX_NEW_TOKENS": "256"},
        secret_env={"HF_TOKEN": SecretEnv("hf-token", "3"), "HF_TOKEN_FALLBACK": SecretEnv("hf-token"),
                    "DB_PASSWORD": SecretEnv("projects/shared-secrets/secrets/chat-db")},
    )
    envs = {e["name"]: e for e in container(plan)["envs"]}
    assert envs["MODEL_NAME"] == {"name": "MODEL_NAME", "value": "gpt2-small"}
    assert envs["HF_TOKEN"] == {"name": "HF_TOKEN",
                                "valueSource": {"secretKeyRef": {"secret": "hf-token", "version": "3"}}}
    assert envs["DB_PASSWORD"]["valueSource"]["secretKeyRef"] == {"secret": "projects/shared-secrets/secrets/chat-db",
                                                                  "version": "latest"}
    assert all("value" not in envs[key] for key in ("HF_TOKEN", "HF_TOKEN_FALLBACK", "DB_PASSWORD"))
    bindings = {b.inputs["secretId"]: b for b in plan.of_type(SECRET_MEMBER)}
    assert set(bindings) == {"hf-token", "projects/shared-secrets/secrets/chat-db"}  # one per secret, not per variable
    assert {b.inputs["role"] for b in bindings.values()} == {"roles/secretmanager.secretAccessor"}
    assert {b.inputs["member"] for b in bindings.values()} == {SA_MEMBER}
    assert bindings["hf-token"].inputs["project"] == "genai-platform-dev"
    assert "project" not in bindings["projects/shared-secrets/secrets/chat-db"].inputs
    assert {b.urn for b in bindings.values()} <= set(plan.one(SERVICE).dependencies)


def test_http_probes_and_timeout():
    plan = plan_service(startup_probe_path="/healthz", startup_probe_period_seconds=20,
                        startup_probe_failure_threshold=15, liveness_probe_path="/livez", container_port=8000,
                        request_timeout_seconds=3600)
    probe = container(plan)["startupProbe"]
    assert probe == {"httpGet": {"path": "/healthz", "port": 8000}, "periodSeconds": 20, "failureThreshold": 15,
                     "timeoutSeconds": 5}
    assert container(plan)["livenessProbe"]["httpGet"] == {"path": "/livez", "port": 8000}
    assert plan.one(SERVICE).inputs["template"]["timeout"] == "3600s"


def test_gpu_allows_a_longer_model_loading_window():
    probe = container(plan_service(**GPU, startup_probe_failure_threshold=180))["startupProbe"]
    assert probe["periodSeconds"] * probe["failureThreshold"] == 1800


def test_deletion_protection_can_be_turned_off_for_dev():
    assert plan_service(deletion_protection=False).one(SERVICE).inputs["deletionProtection"] is False


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"image": " "}, "image=' ' is empty: pass a container image, e.g. "
                     "'europe-west4-docker.pkg.dev/<project>/<repo>/chat@sha256:<digest>'."),
    ({"service_name": "Chat_UI"}, "service_name='Chat_UI' is not a Cloud Run service name: use lower-case letters, "
                                  "digits and '-', starting with a letter, at most 49 characters."),
    ({"service_account_id": "sa"}, "service_account_id='sa' is not a service account ID: use 6-30 lower-case "
                                   "letters, digits and '-', starting with a letter (pass service_account_id "
                                   "explicitly)."),
    ({"project_roles": ["roles/editor"]}, "project_roles contains 'roles/editor', a basic role over every service in "
                                          "the project: grant the predefined roles the service needs, e.g. "
                                          "'roles/aiplatform.user'."),
    ({"project_roles": ["roles/owner"]}, "project_roles contains 'roles/owner', a basic role over every service in "
                                         "the project: grant the predefined roles the service needs, e.g. "
                                         "'roles/aiplatform.user'."),
    ({"project_roles": ["storage.admin"]}, "project_roles contains 'storage.admin', which is not a role name: use "
                                           "'roles/<service>.<role>' or a custom role 'projects/<project>/roles/<id>'."),
    ({"project_roles": ["roles/logging.logWriter", "roles/logging.logWriter"]},
     "project_roles=['roles/logging.logWriter', 'roles/logging.logWriter'] names a role twice: list each role once."),
    ({"ingress": "all"}, "ingress='all' is not an ingress setting: use one of ['INGRESS_TRAFFIC_INTERNAL_ONLY', "
                         "'INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER', 'INGRESS_TRAFFIC_ALL']."),
    ({"invoker_members": ["allUsers"]}, "invoker_members contains 'allUsers': a public service is opted into with "
                                        "allow_unauthenticated=True, not through invoker_members."),
    ({"invoker_members": ["ops@example.com"]}, "invoker_members contains 'ops@example.com', which is not an IAM "
                                               "principal: prefix it with one of user:, group:, serviceAccount:, "
                                               "domain:, principal:, principalSet:."),
    ({"invoker_members": ["user:a@example.com", "user:a@example.com"]},
     "invoker_members=['user:a@example.com', 'user:a@example.com'] names a principal twice: list each once."),
    ({"allow_unauthenticated": True, "invoker_members": ["user:a@example.com"]},
     "invoker_members=['user:a@example.com'] is redundant with allow_unauthenticated=True (allUsers can already "
     "invoke): drop one of them."),
    ({"min_instances": -1}, "min_instances=-1 is negative: use 0 (scale to zero) or more."),
    ({"max_instances": 0}, "max_instances=0 is out of range: use 1 to 1000."),
    ({"min_instances": 4, "max_instances": 3}, "min_instances=4 exceeds max_instances=3: raise max_instances or "
                                               "lower min_instances."),
    ({"max_instance_request_concurrency": 0}, "max_instance_request_concurrency=0 is out of range: use 1 to 1000."),
    ({"cpu": 3}, "cpu=3 is not a Cloud Run CPU count: use one of [1, 2, 4, 6, 8]."),
    ({"cpu": 1, "memory_mib": 8192}, "memory_mib=8192 does not fit cpu=1: Cloud Run allows 128 to 4096 MiB with "
                                     "1 CPU."),
    ({"cpu": 8, "memory_mib": 2048}, "memory_mib=2048 does not fit cpu=8: Cloud Run allows 4096 to 32768 MiB with "
                                     "8 CPU."),
    ({"gpu_zonal_redundancy_disabled": True}, "gpu_zonal_redundancy_disabled=True has no effect without a GPU: set "
                                              "gpu='nvidia-l4' or drop it."),
    ({**GPU, "gpu": "nvidia-a100"}, "gpu='nvidia-a100' is not a Cloud Run GPU: use one of ['nvidia-l4']."),
    ({**GPU, "cpu": 2, "memory_mib": 8192}, "gpu='nvidia-l4' needs at least 4 CPU and 16384 MiB, got cpu=2 and "
                                            "memory_mib=8192: raise them."),
    ({**GPU, "memory_mib": 8192}, "gpu='nvidia-l4' needs at least 4 CPU and 16384 MiB, got cpu=4 and "
                                  "memory_mib=8192: raise them."),
    ({**GPU, "cpu_idle": True}, "gpu='nvidia-l4' requires CPU always allocated (instance-based billing): set "
                                "cpu_idle=False."),
    ({"env": {"1X": "a"}}, "environment variable '1X' is not a valid name: use letters, digits and '_', not starting "
                           "with a digit."),
    ({"env": {"PORT": "8000"}}, "environment variable 'PORT' is set by Cloud Run itself: choose another name."),
    ({"env": {"HF_TOKEN": "x"}, "secret_env": {"HF_TOKEN": SecretEnv("hf-token")}},
     "environment variable 'HF_TOKEN' is in both env and secret_env: keep it in secret_env only."),
    ({"env": {"OPENAI_API_KEY": "sk-123"}}, "env['OPENAI_API_KEY'] looks like a credential and would be stored in "
                                            "plain text in the revision: put it in Secret Manager and pass it as "
                                            "secret_env['OPENAI_API_KEY']=SecretEnv(secret=...)."),
    ({"env": {"DB_PASSWORD": "hunter2"}}, "env['DB_PASSWORD'] looks like a credential and would be stored in plain "
                                          "text in the revision: put it in Secret Manager and pass it as "
                                          "secret_env['DB_PASSWORD']=SecretEnv(secret=...)."),
    ({"secret_env": {"HF_TOKEN": SecretEnv("hf/token")}}, "secret_env['HF_TOKEN'].secret='hf/token' is not a secret "
                                                          "name: use '<name>' or 'projects/<project>/secrets/<name>'."),
    ({"secret_env": {"HF_TOKEN": SecretEnv("hf-token", "v2")}}, "secret_env['HF_TOKEN'].version='v2' is not a secret "
                                                                "version: use 'latest' or a version number such as "
                                                                "'3'."),
    ({"container_port": 0}, "container_port=0 is out of range: use 1 to 65535."),
    ({"startup_probe_path": "healthz"}, "startup_probe_path='healthz' must be an absolute HTTP path: start it with "
                                        "'/', e.g. '/healthz'."),
    ({"liveness_probe_path": "livez"}, "liveness_probe_path='livez' must be an absolute HTTP path: start it with "
                                       "'/', e.g. '/healthz'."),
    ({"startup_probe_period_seconds": 300}, "startup_probe_period_seconds=300 is out of range: use 1 to 240."),
    ({"startup_probe_failure_threshold": 0}, "startup_probe_failure_threshold=0 is out of range: use 1 or more."),
    ({"startup_probe_failure_threshold": 61}, "startup_probe_failure_threshold=61 x startup_probe_period_seconds=10 "
                                              "= 610 s exceeds Cloud Run's 600 s startup limit: lower one of them."),
    ({**GPU, "startup_probe_failure_threshold": 181},
     "startup_probe_failure_threshold=181 x startup_probe_period_seconds=10 = 1810 s exceeds Cloud Run's 1800 s "
     "startup limit: lower one of them."),
    ({"request_timeout_seconds": 3601}, "request_timeout_seconds=3601 is out of range: use 1 to 3600 seconds."),
])
def test_invalid_arguments_are_rejected_with_a_clear_message(kwargs, message):
    args = {"image": IMAGE, **kwargs}
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        run_under_mocks(lambda: CloudRunService("chat", CloudRunServiceArgs(**args)), config=CONFIG)


def test_too_short_component_name_needs_an_explicit_account_id():
    message = ("service_account_id='a-run' is not a service account ID: use 6-30 lower-case letters, digits and '-', "
               "starting with a letter (pass service_account_id explicitly).")
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        run_under_mocks(lambda: CloudRunService("a", CloudRunServiceArgs(image=IMAGE)), config=CONFIG)
    plan = run_under_mocks(lambda: CloudRunService("a", CloudRunServiceArgs(image=IMAGE, service_account_id="chat-a-run")),
                           config=CONFIG)
    assert plan.one(ACCOUNT).inputs["accountId"] == "chat-a-run"


def test_missing_region_everywhere_is_a_clear_error():
    message = "region is not set and the provider has no gcp:region: pass region='europe-west4' or similar."
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        run_under_mocks(lambda: CloudRunService("chat", CloudRunServiceArgs(image=IMAGE)),
                        config={**CONFIG, "gcp:region": ""})


def test_image_may_be_the_output_of_a_build():
    plan = run_under_mocks(lambda: CloudRunService("chat", CloudRunServiceArgs(image=pulumi.Output.from_input(IMAGE))),
                           config=CONFIG)
    assert container(plan)["image"] == IMAGE
