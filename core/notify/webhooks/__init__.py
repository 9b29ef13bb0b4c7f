"""Webhooks to integrators: subscriptions, the event bodies, Standard Webhooks signatures, and the address
rule that keeps a webhook URL from becoming a way into the local network."""
