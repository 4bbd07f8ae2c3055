"""The deadline registry (期限登记) and the reminders planned from it."""
