"""What a bureau reads: progress of a call, official summary tables, Chinese labels."""
