"""qTest Manager: the target (client) and, in ``emulator/``, a server emulator for tests."""
