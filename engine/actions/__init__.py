"""Connections to the outside world: email over SMTP, SMS through an HTTP gateway, webhooks.

Each module holds pure "send" functions that the runtime calls with already rendered
text and an idempotency key; every failure is an :class:`~engine.actions.errors.ActionError`
that says whether trying again may help.
"""
