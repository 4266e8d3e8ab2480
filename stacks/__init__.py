"""The Pulumi program of genai-platform: typed config, the services, the stack outputs."""
