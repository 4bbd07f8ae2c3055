"""Eligibility (资格审查): evaluating a profile's rule trees against an application's figures and recording verdicts."""
