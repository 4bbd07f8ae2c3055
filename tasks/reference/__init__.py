"""Reference data: programme profiles, the jurisdiction tree, calls and routing of applications."""
