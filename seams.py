"""What differs between the series this addon runs on, in one place: one small helper per seam,
named after it.

The source is written for Odoo 18. ``tools/series.py`` writes the addon for another series and sets
``SERIES`` below (17, 18 or 19; Flectra 3, which is based on Odoo 17, is 17). Code that depends on the
series asks this module, never ``odoo.release``.
"""

import threading

from odoo import models, modules

SERIES = 18

# ir.mail_server: Odoo 19 renamed the send-path methods this module extends.
MAIL_SERVER_RENAMED = {
    "connect": "_connect__",
    "build_email": "_build_email__",
    "_prepare_email_message": "_prepare_email_message__",
}


def mail_server_method(name):
    """The name this series gives ``ir.mail_server``'s method called ``name`` in Odoo 17 and 18."""
    return MAIL_SERVER_RENAMED[name] if SERIES >= 19 else name


def mail_server_renames(cls):
    """Class decorator of an ``ir.mail_server`` extension: on Odoo 19 its overrides of the renamed
    methods move to the new names (Odoo calls those: an override under the old name would never
    run). Each override calls ``super()``, and the module calls them, by ``mail_server_method``."""
    if SERIES >= 19:
        for old, new in MAIL_SERVER_RENAMED.items():
            if old in cls.__dict__:
                setattr(cls, new, cls.__dict__[old])
                delattr(cls, old)
    return cls


def mark_not_sent(mails, reason):
    """Mark ``mails`` failed as Odoo's ``mail.mail.send`` does when their server cannot be reached:
    *exception* with ``reason``, their notifications failed (Odoo 19 also takes the addresses that
    were sent to)."""
    mails.write({"state": "exception", "failure_reason": reason})
    if SERIES >= 19:
        mails._postprocess_sent_message(success_pids=[], success_emails=[], failure_type="mail_smtp")
    else:
        mails._postprocess_sent_message(success_pids=[], failure_type="mail_smtp")


def unique(name, definition, message):
    """Class decorator: the SQL constraint ``definition`` (e.g. ``UNIQUE(name)``) named ``name`` on
    the model's table; ``_sql_constraints`` up to 18, a ``models.Constraint`` from 19."""

    def declare(cls):
        if SERIES >= 19:
            constraint = models.Constraint(definition, message)
            setattr(cls, f"_{name}", constraint)
            constraint.__set_name__(cls, f"_{name}")
        else:
            cls._sql_constraints = [*cls.__dict__.get("_sql_constraints", ()), (name, definition, message)]
        return cls

    return declare


# res.users: the groups a user has, implied ones included (19 keeps the assigned ones in group_ids).
USER_GROUPS = "all_group_ids" if SERIES >= 19 else "groups_id"
# ... and the field that assigns groups to a user.
USER_GROUPS_ASSIGNED = "group_ids" if SERIES >= 19 else "groups_id"


def testing(env):
    """Whether Odoo is running tests: nothing is committed, no resolver but loopback is asked.
    Odoo 17 sets ``current_test`` only while at_install tests run."""
    if SERIES >= 18:
        return bool(modules.module.current_test)
    return bool(getattr(threading.current_thread(), "testing", False) or env.registry.in_test_mode())


def cron_progress(env, processed, done, remaining):
    """Tell the scheduler how far the running job is (``processed`` in this step, ``done`` in all,
    ``remaining``) and commit that work, except in tests. Odoo 17 has no progress API: the job
    triggers itself again when it stops early."""
    if SERIES >= 19:  # commits: in a test, only inside a job run in the registry's test mode
        if env.context.get("ir_cron_progress_id") or not testing(env):
            env["ir.cron"]._commit_progress(processed, remaining=remaining)
        return
    if SERIES >= 18:
        env["ir.cron"]._notify_progress(done=done, remaining=remaining)
    if not testing(env):
        env.cr.commit()


def check_create_access(records):
    """Raise unless the user may create ``records``' model (``check_access_rights`` before 18)."""
    if SERIES >= 18:
        records.browse().check_access("create")
    else:
        records.check_access_rights("create")
