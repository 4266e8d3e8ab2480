"""The data team's ingest service: uploads land in a bucket, their events queue up for the workers."""

import pulumi
import pulumi_aws as aws

from genai_platform.components.aws import (AlertTopic, AlertTopicArgs, AwsBudget, AwsBudgetArgs, Bucket, BucketArgs,
                            BucketQueueNotification, BucketQueueNotificationArgs, QueueWithDlq, QueueWithDlqArgs, Vpc,
                            VpcArgs)
from genai_platform.components.tagging import child_tags
from team_lib import team_tags

config = pulumi.Config()
stack = pulumi.get_stack()
tags = team_tags(stack, config.require("owner"))
name = f"team-{stack}"

network = Vpc(f"{name}-net", VpcArgs(cidr_block=config.require("vpcCidr"), zone_count=config.require_int("zones"),
                                      nat_strategy="single", tags=tags))
alerts = AlertTopic(f"{name}-alerts", AlertTopicArgs(alert_emails=config.require_object("alertEmails"), tags=tags))
uploads = Bucket(f"{name}-uploads", BucketArgs(object_expiration_days=config.require_int("retentionDays"), tags=tags))
ingest = QueueWithDlq(f"{name}-ingest", QueueWithDlqArgs(s3_source_bucket_arns=[uploads.bucket_arn],
                                                          alarm_actions=[alerts.topic_arn], tags=tags))
BucketQueueNotification(f"{name}-incoming", BucketQueueNotificationArgs(
    bucket_name=uploads.bucket_name, queue_arn=ingest.event_target_arn, prefix="incoming/"))
AwsBudget(f"{name}-budget", AwsBudgetArgs(limit_amount_usd=config.require_int("budgetUsd"),
                                          alert_emails=config.require_object("alertEmails"), tags=tags))
# The team's own resource, written with the provider directly: the workers read the token from here.
aws.ssm.Parameter(f"{name}-webhook-token", type="SecureString", value=config.require_secret("webhookToken"),
                  tags=child_tags(f"{name}-webhook-token", tags))

pulumi.export("vpcId", network.vpc_id)
pulumi.export("uploadsBucket", uploads.bucket_name)
pulumi.export("queueUrl", ingest.queue_url)
