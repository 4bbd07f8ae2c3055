"""公示: publishing the recommended list of a call, objections raised against it, and closing it."""
