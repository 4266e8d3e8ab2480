"""Data: S3 buckets, Postgres, Redis, SQS queues and the model store, each with its own KMS key."""
