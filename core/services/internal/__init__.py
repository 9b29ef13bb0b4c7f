"""Internal lookups and reports of the call path: what routing reads and records while a call runs, with no
actor behind it (no authorisation, no audit). Only the services and the composition root use them; the
adapters (core.api, pbx, console, bot) cannot import this package (import-linter contract
`internal-lookups-not-for-adapters`), so everything a person reaches goes through an authorised service.
"""
