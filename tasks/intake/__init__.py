"""Intake (申报受理): reading application workbooks, validating every row, and writing enterprises and applications at once."""
