import base64
import json
import re
import subprocess

import pytest

from genai_platform.components.aws import Vpc, VpcArgs
from genai_platform.components.aws.network.nat_instance import AMI_PARAMETER, boot_script, setup_script
from genai_platform.cost import estimate
from genai_platform.mockcloud import run_under_mocks

ASG = "aws:autoscaling/group:Group"
ENI = "aws:ec2/networkInterface:NetworkInterface"
TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
ROUTE = "aws:ec2/route:Route"
TOPIC = "arn:aws:sns:us-east-1:123456789012:alerts"


def plan_vpc(**kwargs):
    return run_under_mocks(lambda: Vpc("net", VpcArgs(nat_type="instance", **kwargs)),
                           config={"aws:region": "us-east-1"})


@pytest.mark.parametrize(("strategy", "zones", "instances"), [("single", 2, 1), ("single", 3, 1),
                                                               ("one_per_az", 2, 2), ("one_per_az", 3, 3),
                                                               ("none", 2, 0)])
def test_an_instance_group_per_nat_zone_and_no_gateway(strategy, zones, instances):
    plan = plan_vpc(zone_count=zones, nat_strategy=strategy)
    assert not plan.of_type("aws:ec2/natGateway:NatGateway") and not plan.of_type("aws:ec2/eip:Eip")
    assert len(plan.of_type(ASG)) == len(plan.of_type(ENI)) == len(plan.of_type(TEMPLATE)) == instances
    assert len(plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")) == instances
    egress = [r for r in plan.of_type(ROUTE) if r.name.endswith("-egress")]
    assert len(egress) == (zones if instances else 0)
    assert all("natGatewayId" not in r.inputs for r in egress)


def test_private_routes_point_at_the_static_interface_of_their_zone():
    plan = plan_vpc(zone_count=3, nat_strategy="one_per_az")
    tables = {plan.named(f"net-private-{i}", "aws:ec2/routeTable:RouteTable").id: i for i in range(3)}
    route_to = {tables[r.inputs["routeTableId"]]: r.inputs["networkInterfaceId"]
                for r in plan.of_type(ROUTE) if r.name.endswith("-egress")}
    assert route_to == {i: plan.named(f"net-nat-{i}", ENI).id for i in range(3)}
    public = {plan.named(f"net-public-{zone}", "aws:ec2/subnet:Subnet").id: zone
              for zone in ("us-east-1a", "us-east-1b", "us-east-1c")}
    for index, zone in enumerate(("us-east-1a", "us-east-1b", "us-east-1c")):
        interface, group = plan.named(f"net-nat-{index}", ENI), plan.named(f"net-nat-{index}", ASG)
        assert interface.inputs["sourceDestCheck"] is False
        assert public[interface.inputs["subnetId"]] == zone
        # The group launches only in the interface's zone: an interface cannot move between zones.
        assert [public[s] for s in group.inputs["vpcZoneIdentifiers"]] == [zone]


def test_the_group_keeps_one_self_healing_instance():
    group = plan_vpc().named("net-nat-0", ASG)
    assert (group.inputs["minSize"], group.inputs["maxSize"], group.inputs["desiredCapacity"]) == (1, 1, 1)
    assert group.inputs["healthCheckType"] == "EC2"
    assert group.inputs["name"] == "net-nat-0"
    template = plan_vpc().named("net-nat-0", TEMPLATE)
    assert group.inputs["launchTemplate"]["id"] == template.id


def test_the_instance_is_graviton_imdsv2_encrypted_and_has_no_ssh():
    template = plan_vpc().named("net-nat-0", TEMPLATE).inputs
    assert template["instanceType"] == "t4g.nano"
    assert template["imageId"] == f"resolve:ssm:{AMI_PARAMETER}"
    assert template["metadataOptions"] == {"httpEndpoint": "enabled", "httpTokens": "required",
                                           "httpPutResponseHopLimit": 1}
    assert template["blockDeviceMappings"] == [{"deviceName": "/dev/xvda", "ebs": {
        "volumeSize": 8, "volumeType": "gp3", "encrypted": "true", "deleteOnTermination": "true"}}]
    assert "keyName" not in template
    user_data = base64.b64decode(template["userData"]).decode()
    assert "systemctl disable --now sshd.service\nsystemctl mask sshd.service\n" in user_data


def test_the_security_group_admits_only_the_vpc():
    group = plan_vpc(cidr_block="10.40.0.0/16").named("net-nat-instance", "aws:ec2/securityGroup:SecurityGroup")
    assert [(r["protocol"], r["cidrBlocks"]) for r in group.inputs["ingress"]] == [("-1", ["10.40.0.0/16"])]
    assert [r["cidrBlocks"] for r in group.inputs["egress"]] == [["0.0.0.0/0"]]
    plan = plan_vpc(cidr_block="10.40.0.0/16")
    assert plan.named("net-nat-0", ENI).inputs["securityGroups"] == [group.id]
    assert plan.named("net-nat-0", TEMPLATE).inputs["networkInterfaces"][0]["securityGroups"] == [group.id]


def test_the_role_has_session_manager_and_touches_only_its_own_instances_and_interfaces():
    plan = plan_vpc(zone_count=2, nat_strategy="one_per_az")
    role = plan.named("net-nat-instance", "aws:iam/role:Role")
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    attached = plan.named("net-nat-instance-ssm", "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert attached.inputs["policyArn"] == "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
    statements = json.loads(plan.named("net-nat-instance", "aws:iam/rolePolicy:RolePolicy").inputs["policy"])["Statement"]
    own = {"StringEquals": {"aws:ResourceTag/aws:autoscaling:groupName": ["net-nat-0", "net-nat-1"]}}
    interfaces = [plan.named(f"net-nat-{i}", ENI).id for i in range(2)]
    assert statements == [
        {"Sid": "DisableOwnSourceDestCheck", "Effect": "Allow", "Action": ["ec2:ModifyInstanceAttribute"],
         "Resource": ["arn:aws:ec2:us-east-1:123456789012:instance/*"], "Condition": own},
        {"Sid": "AttachToOwnInstance", "Effect": "Allow", "Action": ["ec2:AttachNetworkInterface"],
         "Resource": ["arn:aws:ec2:us-east-1:123456789012:instance/*"], "Condition": own},
        {"Sid": "AttachStaticInterface", "Effect": "Allow", "Action": ["ec2:AttachNetworkInterface"],
         "Resource": [f"arn:aws:ec2:us-east-1:123456789012:network-interface/{eni}" for eni in interfaces]},
    ]
    profile = plan.one("aws:iam/instanceProfile:InstanceProfile")
    assert plan.named("net-nat-0", TEMPLATE).inputs["iamInstanceProfile"] == {"arn": profile.outputs["arn"]}


def test_the_status_check_alarm_notifies_the_alert_topic():
    plan = plan_vpc(nat_alarm_actions=[TOPIC])
    alarm = plan.named("net-nat-0-status", "aws:cloudwatch/metricAlarm:MetricAlarm").inputs
    assert (alarm["namespace"], alarm["metricName"], alarm["statistic"]) == ("AWS/EC2", "StatusCheckFailed", "Maximum")
    assert alarm["dimensions"] == {"AutoScalingGroupName": "net-nat-0"}
    assert alarm["treatMissingData"] == "breaching"
    assert alarm["alarmActions"] == alarm["okActions"] == [TOPIC]


def test_the_boot_script_disables_the_check_before_attaching_and_masquerades_only_the_vpc():
    script = boot_script("eni-0123", "10.10.0.0/16")
    setup = script[script.index("SETUP"):]
    assert setup.index("modify-instance-attribute") < setup.index("attach-network-interface")
    assert "--network-interface-id $eni --device-index 1" in setup and "eni=eni-0123" in setup
    assert 'ip saddr 10.10.0.0/16 oifname "$outbound" masquerade' in setup
    assert "X-aws-ec2-metadata-token" in setup  # IMDSv2: the only way the instance may read its metadata
    assert "systemctl enable --now vpc-nat.service" in script  # re-applied at every boot


def test_a_nat_instance_costs_its_instance_disk_and_public_address():
    plan = plan_vpc()
    items = {item["urn"]: item for item in estimate(plan).items}
    group = items[plan.named("net-nat-0", ASG).urn]
    # t4g.nano $0.0042/h + 8 GiB gp3 x $0.08 + one public IPv4 $0.005/h, 730 h.
    assert group["monthly"] == pytest.approx(0.0042 * 730 + 8 * 0.08 + 0.005 * 730, abs=0.01)
    assert "1 x t4g.nano on-demand" in group["basis"]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"nat_type": "box"}, "nat_type='box' is not a NAT type: use 'gateway' or 'instance'."),
    ({"nat_type": "instance", "nat_instance_type": "t3.nano"},
     "nat_instance_type='t3.nano' is not a Graviton instance type: the NAT instance boots the arm64 Amazon Linux "
     "2023 AMI, use a type such as 't4g.nano'."),
])
def test_impossible_nat_arguments_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        run_under_mocks(lambda: Vpc("net", VpcArgs(**kwargs)))


def test_a_name_too_long_for_the_nat_role_is_refused():
    name = "n" * 44
    with pytest.raises(ValueError) as error:
        run_under_mocks(lambda: Vpc(name, VpcArgs(nat_type="instance")))
    assert str(error.value) == (
        f"name='{name}' has 44 characters, too many for the NAT instance IAM role named '{name}-nat-instance-' "
        "plus 7 random characters (at most 64): use a component name of at most 43 characters.")
    run_under_mocks(lambda: Vpc(name, VpcArgs()))  # gateways need no role


# --- the boot script, run against stand-ins for the instance metadata service, the AWS CLI, ip and nft ----

FAKES = {
    # IMDSv2: a token first, then metadata; the static interface shows up once attached.
    "curl": r"""#!/bin/sh
echo "curl $*" >> "$LOG"
case "$*" in
  *api/token*) echo token-1;;
  *meta-data/instance-id) echo i-0abc;;
  *meta-data/placement/region) echo us-east-1;;
  *meta-data/network/interfaces/macs/) echo "0a:00:00:00:00:01/"; [ -f "$STATE/attached" ] && echo "0a:00:00:00:00:02/";;
  *macs/0a:00:00:00:00:01/interface-id) echo eni-primary;;
  *macs/0a:00:00:00:00:02/interface-id) echo eni-0static;;
esac
""",
    "aws": r"""#!/bin/sh
echo "aws $*" >> "$LOG"
case "$*" in *attach-network-interface*) touch "$STATE/attached";; esac
""",
    "ip": """#!/bin/sh\necho "default via 10.10.0.1 dev ens5 proto dhcp src 10.10.0.12 metric 512"\n""",
    "nft": """#!/bin/sh\necho "nft $*" >> "$LOG"\n""",
    "sysctl": """#!/bin/sh\necho "sysctl $*" >> "$LOG"\n""",
}


@pytest.fixture
def instance(tmp_path):
    bin_dir, state = tmp_path / "bin", tmp_path / "state"
    bin_dir.mkdir()
    state.mkdir()
    for name, body in FAKES.items():
        (bin_dir / name).write_text(body)
        (bin_dir / name).chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "LOG": str(tmp_path / "log"), "STATE": str(state)}
    return env, tmp_path / "log", state


def boot(env):
    result = subprocess.run(["/bin/bash", "-c", setup_script("eni-0static", "10.10.0.0/16")], env=env,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


@pytest.mark.end_to_end
def test_first_boot_disables_the_check_then_attaches_and_masquerades_the_vpc(instance):
    env, log, _ = instance
    boot(env)
    calls = log.read_text().splitlines()
    aws = [c for c in calls if c.startswith("aws ")]
    assert aws == ["aws ec2 modify-instance-attribute --instance-id i-0abc --no-source-dest-check",
                   "aws ec2 attach-network-interface --instance-id i-0abc --network-interface-id eni-0static "
                   "--device-index 1"]
    assert all("X-aws-ec2-metadata-token" in c for c in calls if c.startswith("curl") and "api/token" not in c)
    assert "sysctl -qw net.ipv4.ip_forward=1" in calls
    assert {"sysctl -qw net.ipv4.conf.all.rp_filter=0", "sysctl -qw net.ipv4.conf.default.rp_filter=0"} <= set(calls)
    assert calls[-1] == 'nft add rule ip nat postrouting ip saddr 10.10.0.0/16 oifname ens5 masquerade'


@pytest.mark.end_to_end
def test_a_reboot_with_the_interface_attached_only_reapplies_forwarding_and_nat(instance):
    env, log, state = instance
    (state / "attached").touch()
    boot(env)
    calls = log.read_text().splitlines()
    assert not [c for c in calls if c.startswith("aws ")]
    assert calls[-1].endswith("masquerade")
