"""People (用户): bureau and applicant users, who may act, where and for whom."""
