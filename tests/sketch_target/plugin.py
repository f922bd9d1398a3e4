"""``-p sketch_target.plugin``: registers the sketch target in a pytest started in a new
process (its import comes before the tmupload plugin adds its options)."""

from __future__ import annotations

from tmupload.targets import registry

registry.register("sketch", "sketch_target.spec")
