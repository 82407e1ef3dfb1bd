"""Built-in endpoint checks for the host annexa runs on, judged on osquery answers."""
