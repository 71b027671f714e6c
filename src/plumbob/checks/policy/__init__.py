"""Policy and security: admission policy engines, image and GPU policies, certificates."""
