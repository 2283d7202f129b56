"""What the consent services raise when they refuse. ``str()`` is one plain-language line.

The command line turns any :class:`Refusal` into exit status 1; the GUI shows the message.
"""

from __future__ import annotations

from reviewer.domain.policy import Finding


class Refusal(Exception):
    """The action was refused and nothing was changed (except the audit entry for it)."""


class NotFound(Refusal):
    pass


class AuthenticationFailed(Refusal):
    pass


class ProfileRefused(Refusal):
    pass


class PermissionRefused(Refusal):
    """The actor's role does not allow the action; always audited."""


class DecisionRefused(Refusal):
    pass


class PolicyRefused(DecisionRefused):
    """Approving would break the talent's standing terms and no override was given."""

    def __init__(self, message: str, findings: list[Finding]) -> None:
        super().__init__(message)
        self.findings = findings


class ReleaseRefused(Refusal):
    pass
