"""Fleet checks: per-host results of Fleet policies, disk encryption, and the endpoint
controls mapped to configured Fleet policies (screen lock, firewall, anti-malware, updates)."""
