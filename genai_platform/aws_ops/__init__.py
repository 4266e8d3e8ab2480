"""boto3 operations for the platform: bootstrap the Pulumi state backend and verify a deployed stack.

``session`` (region, account, standard retries), ``errors`` (one line per AWS failure, exit 2),
``backend`` (the state bucket and KMS key), ``checks`` (post-deploy checks) and ``output_keys`` (the
stack outputs ``verify`` reads).
"""
