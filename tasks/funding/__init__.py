"""The funded tier (重点"小巨人"): 实施方案, tranches, disbursement runs, payments and 绩效考核."""
