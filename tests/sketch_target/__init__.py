"""A target that exists only in the tests: it records what it is given in a file.

It proves the seam: a server is this folder plus one registry entry; nothing in the core
changes for it to run through the plugin, ``tmupload import``, ``resend`` and the manifest.
"""
