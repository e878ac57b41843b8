"""Telling residents (通知): each resident's inbox (``inbox``: messages written by the services
that post the events, inside their transaction, and reminders housekeeping writes once), staff's
announcements to the community, a grid or a building (``announcements``), the kinds of message
and their words (``kinds``), and the one door a message could leave the server by (``senders``:
nothing leaves unless an operator configures a sender).

Builds on ``mall.access`` and the kernel; the capabilities above it (earning, counter, reports)
call it, and it imports none of them.
"""

__all__ = ["announcements", "inbox", "kinds", "senders"]
