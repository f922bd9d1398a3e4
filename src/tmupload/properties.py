"""Names of the properties that carry attachments on a result (light: the plugin reads them).

They travel as pytest user properties (so with xdist reports to the controller, and into
``--junitxml``) and as JUnit ``<property>`` elements.
"""

from __future__ import annotations

__all__ = ["ATTACHMENT_PROPERTY", "FIXTURE_PROPERTY"]

#: A path to a file, as JUnit reports and Jenkins' ``[[ATTACHMENT|path]]`` lines give it.
ATTACHMENT_PROPERTY = "attachment"
#: JSON from the ``tm_attach`` fixture: path, name, content type (and the attempt, for reruns).
FIXTURE_PROPERTY = "tmupload_attachment"
