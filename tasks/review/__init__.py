"""The review ladder (逐级审核): level windows, reviewers' decisions, quotas and level close."""
