"""Use cases: validate → authorise → store → audit → notify."""
