"""The local host through osquery (``osqueryi --json``), for laptop audits in CLI mode."""
